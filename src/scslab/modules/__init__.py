"""Mechanisms, one file each. :mod:`scslab.modules.registry` lists them in day order."""
