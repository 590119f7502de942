"""Face recognition error: false match and false non-match rates by algorithm origin,
group and sex, with a persistent look-alike multiplier per person.

NIST IR 8280 (Grother, Ngan & Hanaoka 2019) found one-to-one false match rates 10–100×
higher for some groups than for the reference group, depending on where the algorithm
was developed, women 2–5× men, and smaller differences in false non-match rates. Here

    FMR_i  = base_fmr  × fmr_multiplier[origin][group_i]  × (female_fmr_multiplier if female) × m_i
    FNMR_i = base_fnmr × fnmr_multiplier[origin][group_i] × (female_fnmr_multiplier if female)

with ``m_i = exp(σ z_i − σ²/2)`` (mean 1), ``z_i`` drawn once per person from a keyed
stream: look-alikes are the same people on every search, so false alarms fall on them
again and again. A one-to-many search against a gallery of ``G`` entries raises a false
alarm with probability ``1 − (1 − FMR_i)^G`` (independent comparisons).
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from scslab.core.scenario_schema import Strict
from scslab.numerics.rng import Stream

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
Multiplier = Annotated[float, Field(gt=0.0)]


class OriginSpec(Strict):
    """Error multipliers of algorithms of one origin, per group (absent group: 1)."""

    fmr: dict[str, Multiplier] = Field(default_factory=dict)
    fnmr: dict[str, Multiplier] = Field(default_factory=dict)


class FaceParams(Strict):
    algorithm: str = "domestic"  # which origin's error table the deployed algorithm has
    base_fmr: Prob = 1.0e-6  # one-to-one false match rate of the reference group (men)
    base_fnmr: Prob = 0.01  # false non-match rate of the reference group (men)
    female_fmr_multiplier: Multiplier = 3.0  # NIST IR 8280: women 2–5× men
    female_fnmr_multiplier: Multiplier = 1.0
    lookalike_sigma: Annotated[float, Field(ge=0.0)] = 0.0  # σ of the log multiplier; 0 = none
    origins: dict[str, OriginSpec] = Field(default_factory=lambda: {"domestic": OriginSpec()})


def check_face(face: FaceParams, groups: list[str], where: str = "face") -> None:
    """One-line errors naming the field: unknown origin or group."""
    if face.algorithm not in face.origins:
        raise ValueError(f"{where}.algorithm: unknown origin {face.algorithm!r}; "
                         f"known: {sorted(face.origins)}")
    for name, origin in face.origins.items():
        for kind in ("fmr", "fnmr"):
            for g in getattr(origin, kind):
                if g not in groups:
                    raise ValueError(f"{where}.origins.{name}.{kind}: unknown group {g!r}")


def group_multipliers(face: FaceParams, groups: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """FMR and FNMR multipliers of the deployed algorithm, one per group (scenario order)."""
    o = face.origins[face.algorithm]
    return (np.array([o.fmr.get(g, 1.0) for g in groups]),
            np.array([o.fnmr.get(g, 1.0) for g in groups]))


def lookalike_multiplier(stream: Stream, slot: int, people: np.ndarray, sigma: float
                         ) -> np.ndarray:
    """m_i = exp(σ z_i − σ²/2), mean 1, one keyed draw per person (day 0, fixed slot): the
    same value for a person whichever subset of people is asked for."""
    if sigma <= 0:
        return np.ones(np.size(people))
    z = stream.normal(0, slot, people)
    return np.exp(sigma * z - 0.5 * sigma * sigma)


def person_rates(face: FaceParams, groups: list[str], group: np.ndarray, sex: np.ndarray,
                 lookalike: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-person FMR (look-alike multiplier included) and FNMR, clipped to [0, 1]."""
    fm, fn = group_multipliers(face, groups)
    female = sex.astype(bool)
    fmr = face.base_fmr * fm[group] * np.where(female, face.female_fmr_multiplier, 1.0)
    fnmr = face.base_fnmr * fn[group] * np.where(female, face.female_fnmr_multiplier, 1.0)
    return np.minimum(fmr * lookalike, 1.0), np.minimum(fnmr, 1.0)


def false_alarm_probability(fmr: np.ndarray | float, gallery: int | float) -> np.ndarray:
    """1 − (1 − FMR)^G, computed stably for tiny FMR and large galleries."""
    fmr = np.minimum(np.asarray(fmr, dtype=np.float64), 1.0)
    if gallery <= 0:
        return np.zeros_like(fmr)
    with np.errstate(divide="ignore"):
        return -np.expm1(float(gallery) * np.log1p(-fmr))
