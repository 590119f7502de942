"""The dossier module: files each day's observations as records.

The apparatus side of the truth firewall: it reads observations (never their truth)
and appends records to the :class:`~scslab.dossier.Dossier`, applying retention.
Visibility (transparent: the subject sees and can contest; opaque: a secret file)
is a parameter read by learning and appeals.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from scslab.module import Module, Phase, Role
from scslab.scenario.schema import ModuleParams
from scslab.schema import RECORD_KIND_OBSERVATION, dtype


class DossierParams(ModuleParams):
    visibility: Literal["transparent", "opaque"] = "transparent"
    retention_days: Annotated[int, Field(ge=1)] | None = None  # None = keep everything


class DossierModule(Module):
    name = "dossier"
    role = Role.SYSTEM
    phase = Phase.RECORD
    Params = DossierParams
    doc = "Files observations as records in the append-only, per-day chunked log."
    reads = ("observations",)
    appends = ("dossier",)

    def step(self, world, day: int) -> None:
        obs = world.events("observations")
        if len(obs):
            world.dossier.append(
                day,
                subject=obs["subject"],
                act=obs["act"],
                source=obs["source"],
                kind=np.full(len(obs), RECORD_KIND_OBSERVATION, dtype=dtype("code")),
                act_ref=obs["act_ref"],
            )
        keep = self.params.retention_days
        if keep is not None and day - keep >= 0:
            world.dossier.drop_before(day - keep + 1)
