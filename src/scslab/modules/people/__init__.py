"""Mechanisms of the people: behaviour, learning, attitudes."""
