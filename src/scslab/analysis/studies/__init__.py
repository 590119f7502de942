"""Studies: sweeps, global sensitivity and sign-robustness over many scenario runs.

``spec`` (the YAML study and its validation) → ``design`` (SALib samples) → ``execution``
(local processes or Dask) → ``store`` (one atomic Parquet part per run, resumable) →
``analysis`` (Morris, Sobol, sign-robustness) → ``figures`` and ``report``. ``study``
is the Python API; ``scslab.cli.study`` the command line. See docs/studies.md.
"""

from scslab.analysis.studies.spec import ResolvedStudy, StudyError, load_study
from scslab.analysis.studies.study import Study, StudyResult, StudyStatus, open_study

__all__ = ["ResolvedStudy", "Study", "StudyError", "StudyResult", "StudyStatus",
           "load_study", "open_study"]
