"""Numerics: counter-based random streams, set operations, sparse rows."""
