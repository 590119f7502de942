"""``python -m scslab`` is the ``scslab`` command."""

from scslab.cli import entry

entry()
