"""The typed bundles the behaviour kernel ``_decide`` takes, instead of 41 positional
arguments: what is known of each act, each person's arrays, and the decision parameters.

They are ``NamedTuple``s, which Numba compiles as tuples (fields by position, no copy):
the kernel unpacks them once at its top, so its body and its results are unchanged.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class ActTables(NamedTuple):
    """Per act (indexed by catalogue position), and per region × act."""

    codes: np.ndarray  # act code, for the draw's slot
    act_class: np.ndarray
    gain: np.ndarray
    penalty: np.ndarray
    sanction: np.ndarray  # the apparatus's consequence, as the informed perceive it
    reward: np.ndarray
    detection: np.ndarray  # [region, act]: the recording chance the informed perceive
    rel_det: np.ndarray  # [region, act]: local detection relative to the public figure
    slot_of: np.ndarray  # act → perception slot (venue)
    pub_target: np.ndarray  # per slot: the public detection figure
    penalty_gamma: np.ndarray  # penalty ** γ
    sanction_gamma: np.ndarray  # sanction ** γ


class PersonArrays(NamedTuple):
    """Per person (read, never written, by the kernel)."""

    region: np.ndarray
    honesty: np.ndarray
    aware: np.ndarray  # people.informed
    privacy: np.ndarray  # people.privacy_concern
    pd: np.ndarray  # perceived detection, per slot
    pd_day: np.ndarray  # the day it was last learned
    ps: np.ndarray  # perceived sanction multiplier
    trust: np.ndarray  # institutional trust (empty without the legitimacy link)


class DecideParams(NamedTuple):
    """Scalars of the decision (``BehaviourParams`` and what follows from them)."""

    pub_rate: float  # learning's public rate (0 when learning is off)
    alpha: float  # intercept
    tau: float  # gain scale
    beta: float  # moral weight
    delta: float  # deterrence weight
    gamma: float  # severity exponent
    det_scale: float
    sanc_scale: float
    p0e: float  # expression base
    a_w: float  # watch weight
    a_p: float  # penalty weight
    prior_p: float  # expression penalty prior
    sens: float  # sensitivity scale
    logit_p0: float  # logit of the prosocial base
    rho: float  # reward weight
    crowd: float  # crowding out
    crowd_ref: float  # crowding reference
    displacement: float
    lam: float  # legitimacy weight
    trust_ref: float  # logit of the trust mean
