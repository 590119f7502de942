"""The reduced model: one specification shared by all four implementations.

N people, each with a perceived detection probability ``pd_i`` (start ``PD0``) and
points (start ``POINTS0``). Day ``t``, for every person, in this order:

1. **release** — a person whose 180-day listing ran out (listed on day ``t − 180``) leaves
   the blacklist and their points reset to ``POINTS0``;
2. **decide** — violate with probability ``p_i = clip(BASE · (1 − K · pd_i), 0, 1)``
   (one uniform draw per person);
3. **detect** — a violation is seen by a camera with probability ``COVERAGE`` (one uniform
   draw per violation); a detection deducts ``DEDUCTION`` points;
4. **list** — a person not on the list whose points are below ``THRESHOLD`` is listed for
   ``LIST_DAYS`` days (days ``t … t + 179``);
5. **travel** — a listed person has a travel opportunity blocked with probability
   ``P_BLOCK`` (one uniform draw per listed person): ``blocked_trips``;
6. **learn** — after a detection ``pd ← pd + ETA · (1 − pd)``; on a day without detection
   ``pd ← pd + ETA_DECAY · (PD0 − pd)`` (equivalently, after ``m`` quiet days
   ``pd = PD0 + (pd − PD0)(1 − ETA_DECAY)^m``, which scslab evaluates lazily).

Draws per agent-day: 1 (violation) + 1 if violating (detection) + 1 if listed (travel).

Per-day outputs (the same four in every implementation): ``violation_rate``
(violations / N), ``detections``, ``listed_share`` (listed after step 4 / N) and
``blocked_trips``.
"""

from __future__ import annotations

PD0 = 0.2
POINTS0 = 100
BASE = 0.05
K = 0.8
COVERAGE = 0.3
DEDUCTION = 5
THRESHOLD = 80
LIST_DAYS = 180
P_BLOCK = 0.01
ETA = 0.1
ETA_DECAY = 0.01

OUTPUTS = ("violation_rate", "detections", "listed_share", "blocked_trips")
