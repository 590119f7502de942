"""What the rules say follows from an act: the public side of every decision.

Each module may contribute, through ``Module.consequences``, per-act arrays of

* ``detection`` — chance an act is recorded (sources, sensors), combined as
  1 − Π(1 − d) over contributors; ``detection_by_region`` (regions × acts) the same per
  region, for local sensors (a contributor giving only ``detection`` counts everywhere);
* ``sanction``  — present value (money) of the sanctions a record triggers, summed;
* ``reward``    — present value (money) of the rewards a record triggers, summed.

The catalogue's ordinary legal ``penalty`` is part of ``sanction``. These are the
*nominal* consequences, computed once from the scenario (public rules), never from
truth; people who are aware of the system perceive them, the unaware perceive priors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from scslab.core.acts import ActCatalogue


@dataclass(frozen=True)
class Consequences:
    detection: np.ndarray
    sanction: np.ndarray
    system_sanction: np.ndarray  # the part of ``sanction`` added by the apparatus
    reward: np.ndarray
    blocked_by: np.ndarray  # uint16 per act: ban bits (sanction measures) that block it
    #: (regions, acts): the chance an act is recorded in each region. Sensors are local;
    #: national sources contribute the same to every row.
    detection_by_region: np.ndarray | None = None

    @property
    def watched(self) -> np.ndarray:
        """Alias: for expression acts, detection is the chance of being watched."""
        return self.detection


def present_value(per_day: float, days: float, discount_per_day: float) -> float:
    """Present value of ``per_day`` for ``days`` days at a daily discount factor.

    A listing that lasts years is worth far less than its nominal total to someone who
    discounts the future: sum_{t<days} per_day · δ^t = per_day (1 − δ^days) / (1 − δ)."""
    if days <= 0 or per_day == 0:
        return 0.0
    if discount_per_day >= 1.0:
        return per_day * days
    return per_day * (1.0 - discount_per_day**days) / (1.0 - discount_per_day)


def nominal_consequences(scenario, catalogue: ActCatalogue, modules: Iterable) -> Consequences:
    n = len(catalogue)
    regions = scenario.population.regions
    miss = np.ones(n)
    miss_region = np.ones((regions, n))
    system = np.zeros(n)
    reward = np.zeros(n)
    blocked_by = np.zeros(n, dtype=np.uint16)
    for module in modules:
        part = module.consequences(scenario, catalogue)
        if not part:
            continue
        if "detection" in part:
            miss *= 1.0 - np.clip(part["detection"], 0.0, 1.0)
        local = part.get("detection_by_region", part.get("detection"))
        if local is not None:
            miss_region *= 1.0 - np.clip(np.broadcast_to(local, (regions, n)), 0.0, 1.0)
        if "sanction" in part:
            system += part["sanction"]
        if "reward" in part:
            reward += part["reward"]
        if "blocked_by" in part:
            blocked_by |= np.asarray(part["blocked_by"], dtype=np.uint16)
    return Consequences(
        detection=1.0 - miss,
        sanction=catalogue.penalty + system,
        system_sanction=system,
        reward=reward,
        blocked_by=blocked_by,
        detection_by_region=1.0 - miss_region,
    )


def public_detection_by_venue(consequences: Consequences, catalogue: ActCatalogue) -> np.ndarray:
    """The published chance that an unlawful act is recorded, per perception venue
    (:meth:`ActCatalogue.perception_venues`): the rate-weighted mean of the apparatus's
    coverage over the violation acts at that venue (the plain mean over its unlawful acts
    where none has a rate, e.g. a judgment refusal at court). Informed people's perceived
    detection of a venue relaxes towards it (public information)."""
    from scslab.core.acts import CLASS_CODE

    venues, slot = catalogue.perception_venues()
    viol = catalogue.act_class == CLASS_CODE["violation"]
    unlawful = viol | ~catalogue.lawful_ref
    out = np.zeros(len(venues))
    for k in range(len(venues)):
        here = viol & (slot == k)
        weights = catalogue.rate[here]
        if weights.sum() > 0:
            out[k] = np.average(consequences.detection[here], weights=weights)
        else:
            out[k] = consequences.detection[unlawful & (slot == k)].mean()
    return out


def relative_detection(detection, signal: np.ndarray, slot: np.ndarray) -> np.ndarray:
    """Each act's detectability relative to the published signal of its venue, as the
    informed scale their perceived detection of the venue by it: (d + 0.01) / (π*_v + 0.01)
    (the 0.01 keeps unrecorded acts from zeroing perception); 1 for acts without a venue
    slot. ``detection`` is per act, or (regions, acts)."""
    has = slot >= 0
    per_act = np.zeros(slot.shape)
    per_act[has] = np.asarray(signal, dtype=np.float64)[slot[has]]
    return np.where(has, (detection + 0.01) / (per_act + 0.01), 1.0)
