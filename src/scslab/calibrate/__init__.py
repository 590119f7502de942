"""Calibration: fit free parameters to published targets, check held-out targets.

``targets`` (the YAML target file and its validation) → ``evaluate`` (targets at
parameter points, on the study machinery: local processes or Dask, common random
numbers) → ``fit`` (Optuna, then a profile per parameter and an identifiability flag)
→ ``store`` (resumable state) and ``output`` (the result folder). The command line is
``scslab calibrate`` (:mod:`scslab.cli.calibrate`); see docs/calibration.md.
"""

from scslab.calibrate.fit import Calibration, calibrate
from scslab.calibrate.store import load_fit
from scslab.calibrate.targets import (
    BUILTIN_TARGETS,
    CalibrationError,
    Target,
    TargetFile,
    load_targets,
)

__all__ = ["BUILTIN_TARGETS", "Calibration", "CalibrationError", "Target", "TargetFile",
           "calibrate", "load_fit", "load_targets"]
