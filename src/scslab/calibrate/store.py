"""A calibration's working state, kept so a rerun continues where the last one stopped.

    DIR/state/identity.json   what is being fitted (target file, run size, code revision)
    DIR/state/optuna.db       Optuna's RDB storage (SQLite): every trial, asked and told
    DIR/state/fit/            a study store: the runs of every trial (fitted scenarios)
    DIR/state/check-HASH/     runs of held-out-only scenarios at the optimum HASH
    DIR/state/profile-HASH/   runs of the profiles around the optimum HASH
    DIR/state/abc.db, abc/    pyabc's history and the runs of ``--method abc``
    DIR/result/               the result, written whole through scslab.run.outfolder
    DIR/posterior/            the ABC-SMC posterior (``--method abc``), likewise

A state of another target file, run size or code revision is refused (``--fresh`` moves it
aside to ``state.stale-TIME``; nothing is deleted).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from scslab.calibrate.targets import CalibrationError, TargetFile

STATE = "state"
RESULT = "result"
POSTERIOR = "posterior"


def targets_fingerprint(tf: TargetFile) -> str:
    """Everything that decides what the fit computes (the targets' sources and notes, which
    only annotate, are left out)."""
    data = tf.model_dump(mode="json")
    for t in data["targets"]:
        t.pop("source", None)
        t.pop("note", None)
    data.pop("description", None)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def point_hash(point: dict[str, float]) -> str:
    text = json.dumps({k: repr(float(v)) for k, v in sorted(point.items())})
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class CalibrationState:
    """The ``state`` folder of a calibration folder."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.root = self.out / STATE

    @property
    def storage_url(self) -> str:
        return f"sqlite:///{(self.root / 'optuna.db').resolve()}"

    def folder(self, name: str) -> Path:
        return self.root / name

    def open(self, tf: TargetFile, fresh: bool = False) -> CalibrationState:
        """Create the state, or check that the existing one fits ``tf`` (see module doc)."""
        from scslab.analysis.studies.store import study_revision
        from scslab.run.results import atomic_write_json

        if self.out.exists() and not self.out.is_dir():
            raise CalibrationError(str(self.out), None, "--out must be a directory, and this is a file")
        ident_path = self.root / "identity.json"
        want = {"kind": "scslab-calibration", "targets": targets_fingerprint(tf),
                "code_revision": study_revision()}
        if self.root.exists():
            try:
                have = json.loads(ident_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                have = None
            problem = None
            if have is None:
                problem = "holds a calibration state without identity.json"
            elif have.get("targets") != want["targets"]:
                problem = "holds a calibration of a different target file or run size"
            elif have.get("code_revision") != want["code_revision"]:
                problem = (f"holds a calibration of code revision {have.get('code_revision')}, "
                           f"this is {want['code_revision']}")
            if problem:
                if not fresh:
                    raise CalibrationError(str(self.out), None,
                                           f"{problem}; use another --out, or --fresh to "
                                           "move the state aside and start afresh")
                stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
                self.root.rename(self.out / f"{STATE}.stale-{stamp}")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            if not ident_path.exists():
                atomic_write_json(ident_path, {
                    **want, "name": tf.name,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        except OSError as exc:
            raise CalibrationError(str(self.out), None,
                                   f"cannot write the calibration folder: "
                                   f"{exc.strerror or exc}") from None
        return self


def load_fit(folder: str | Path) -> dict:
    """A finished calibration read back (``calibration.json``): fitted values, the fit on
    every target, profiles. ``folder`` is the ``--out`` folder or its ``result``."""
    folder = Path(folder)
    for candidate in (folder / RESULT / "calibration.json", folder / "calibration.json"):
        if candidate.exists():
            return json.loads(candidate.read_text(encoding="utf-8"))
    raise CalibrationError(str(folder), None, "no calibration.json (run scslab calibrate)")
