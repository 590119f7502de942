"""Surveillance: sensors, face recognition, the watchlist, landlords."""
