"""Classic games for validating scslab mechanisms: indirect reciprocity (reputation),
Epstein's civil violence, and a validation suite reproducing published results.

Submodules are imported lazily so ``import scslab.games`` stays cheap.
"""

from __future__ import annotations

__all__ = ["reputation", "civil_violence", "validate", "norms"]
