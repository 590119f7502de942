"""The version of scslab: one place, imported by the package root and every file that stamps it."""

__version__ = "0.1.0"
