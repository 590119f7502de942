"""scslab: a laboratory for social credit and mass-surveillance systems."""

__version__ = "0.1.0"
