"""Social norms for indirect reciprocity as lookup tables.

A norm has two parts (Ohtsuki & Iwasa 2004, J. Theor. Biol. 231:107-120):

* an *assessment rule* ``assess[donor_rep, action, recipient_rep] -> new donor rep``
  (reputations 1 = Good, 0 = Bad; actions 1 = Cooperate, 0 = Defect). First- and
  second-order norms ignore the donor's reputation, so both donor rows are equal;
* an *action rule* ``act[donor_rep, recipient_rep] -> 1 (C) or 0 (D)`` used by the
  discriminating strategy DISC. For first- and second-order norms DISC cooperates
  exactly with recipients it sees as good.

Tables are small uint8 arrays so the Numba kernels can index them directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

G, B = 1, 0
C, D = 1, 0


@dataclass(frozen=True)
class Norm:
    """An assessment table (2x2x2) and an action table (2x2), both uint8."""

    name: str
    assess: np.ndarray  # [donor_rep, action, recipient_rep]
    act: np.ndarray  # [donor_rep, recipient_rep]
    order: int  # 1, 2 or 3

    def describe(self) -> str:
        """Human-readable table: one line per (donor, recipient) reputation."""
        rows = []
        for dr in (G, B):
            for rr in (G, B):
                a_c = "G" if self.assess[dr, C, rr] else "B"
                a_d = "G" if self.assess[dr, D, rr] else "B"
                p = "C" if self.act[dr, rr] else "D"
                rows.append(f"{'GB'[1 - dr]}{'GB'[1 - rr]}: C->{a_c} D->{a_d} act {p}")
        return "; ".join(rows)


def _second_order(name: str, cg: int, dg: int, cb: int, db: int, order: int = 2) -> Norm:
    assess = np.zeros((2, 2, 2), dtype=np.uint8)
    for dr in (G, B):
        assess[dr, C, G] = cg
        assess[dr, D, G] = dg
        assess[dr, C, B] = cb
        assess[dr, D, B] = db
    act = np.zeros((2, 2), dtype=np.uint8)
    act[:, G] = 1
    return Norm(name, assess, act, order)


# Second-order norms as in Radzvilavicius, Stewart & Plotkin (2019) eLife 8:e44269, Fig. 1:
# (C->G, D->G, C->B, D->B)
SECOND_ORDER = {
    "stern_judging": (G, B, B, G),
    "simple_standing": (G, B, G, G),
    "image_scoring": (G, B, G, B),  # first order: C is good, D is bad ("Scoring")
    "shunning": (G, B, B, B),
}

# The leading eight (Ohtsuki & Iwasa 2004, Table 2; 2006 J. Theor. Biol. 239:435, Table 1).
# Common to all eight: GGC=G GGD=B GBD=G BGC=G BGD=B, act GG=C GB=D BG=C.
# Free entries: (d(G,B,C), d(B,B,C), d(B,B,D), p(B,B)). The action rule is the best
# response to the assessment rule: cooperate iff cooperating is judged good and defecting
# bad, else defect (it saves the cost). That gives p(B,B) = C for L1 and L2 only.
LEADING_EIGHT = {
    "L1": (G, G, B, C),
    "L2": (B, G, B, C),
    "L3": (G, G, G, D),  # Simple Standing
    "L4": (G, B, G, D),
    "L5": (B, G, G, D),
    "L6": (B, B, G, D),  # Stern Judging
    "L7": (G, B, B, D),  # "Staying"-like
    "L8": (B, B, B, D),  # Judging
}

ALIASES = {
    "sj": "stern_judging",
    "stern": "stern_judging",
    "ss": "simple_standing",
    "standing": "simple_standing",
    "is": "image_scoring",
    "scoring": "image_scoring",
    "sh": "shunning",
}


def _leading(name: str, gbc: int, bbc: int, bbd: int, pbb: int) -> Norm:
    assess = np.zeros((2, 2, 2), dtype=np.uint8)
    for dr in (G, B):
        assess[dr, C, G] = G
        assess[dr, D, G] = B
    assess[G, D, B] = G
    assess[G, C, B] = gbc
    assess[B, C, B] = bbc
    assess[B, D, B] = bbd
    act = np.zeros((2, 2), dtype=np.uint8)  # [donor_rep, recipient_rep]
    act[B, B] = pbb
    act[B, G] = C
    act[G, B] = D
    act[G, G] = C
    order = 2 if name in ("L3", "L6") else 3
    return Norm(name, assess, act, order)


def norm_names() -> list[str]:
    """All built-in norm names (canonical spelling)."""
    return sorted(SECOND_ORDER) + sorted(LEADING_EIGHT)


def canonical_norm_name(name: str) -> str:
    """Normalise a user-supplied norm name; raise ValueError with the valid choices."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = ALIASES.get(key, key)
    if key.upper() in LEADING_EIGHT:
        return key.upper()
    if key in SECOND_ORDER:
        return key
    raise ValueError(
        f"unknown norm {name!r}; choose one of: {', '.join(norm_names())} "
        "(or give a custom table)"
    )


def builtin_norm(name: str) -> Norm:
    key = canonical_norm_name(name)
    if key in LEADING_EIGHT:
        return _leading(key, *LEADING_EIGHT[key])
    cg, dg, cb, db = SECOND_ORDER[key]
    return _second_order(key, cg, dg, cb, db, order=1 if key == "image_scoring" else 2)


_REP = {"G": G, "B": B}
_ACT = {"C": C, "D": D}


def custom_norm(assessment: dict[str, str], action: dict[str, str] | None = None) -> Norm:
    """Build a norm from a user table.

    ``assessment`` keys are ``"<action><recipient>"`` (second order, e.g. ``"CG"``) or
    ``"<donor><action><recipient>"`` (third order, e.g. ``"GCB"``); values ``"G"``/``"B"``.
    ``action`` keys are ``"<recipient>"`` or ``"<donor><recipient>"``; values ``"C"``/``"D"``;
    the default action rule cooperates with good recipients.
    """
    keys = {k.upper(): str(v).upper() for k, v in assessment.items()}
    lengths = {len(k) for k in keys}
    if lengths not in ({2}, {3}):
        raise ValueError(
            "custom assessment keys must all be 2 letters (action, recipient: 'CG') "
            "or all 3 letters (donor, action, recipient: 'GCB')"
        )
    third = lengths == {3}
    assess = np.zeros((2, 2, 2), dtype=np.uint8)
    for dr_l in "GB":
        for a_l in "CD":
            for rr_l in "GB":
                key = f"{dr_l}{a_l}{rr_l}" if third else f"{a_l}{rr_l}"
                if key not in keys:
                    raise ValueError(f"custom assessment table misses entry {key!r}")
                val = keys[key]
                if val not in _REP:
                    raise ValueError(f"custom assessment {key!r} must be 'G' or 'B', got {val!r}")
                assess[_REP[dr_l], _ACT[a_l], _REP[rr_l]] = _REP[val]
    extra = set(keys) - {
        (f"{d}{a}{r}" if third else f"{a}{r}") for d in "GB" for a in "CD" for r in "GB"
    }
    if extra:
        raise ValueError(f"custom assessment table has unknown entries {sorted(extra)}")
    act = np.zeros((2, 2), dtype=np.uint8)
    act[:, G] = C
    action_third = False
    if action:
        akeys = {k.upper(): str(v).upper() for k, v in action.items()}
        alens = {len(k) for k in akeys}
        if alens not in ({1}, {2}):
            raise ValueError("custom action keys must be 'G'/'B' or donor+recipient 'GB'")
        action_third = alens == {2}
        for dr_l in "GB":
            for rr_l in "GB":
                key = f"{dr_l}{rr_l}" if action_third else rr_l
                if key not in akeys:
                    raise ValueError(f"custom action table misses entry {key!r}")
                if akeys[key] not in _ACT:
                    raise ValueError(f"custom action {key!r} must be 'C' or 'D'")
                act[_REP[dr_l], _REP[rr_l]] = _ACT[akeys[key]]
    order = 3 if (third or action_third) else 2
    return Norm("custom", assess, act, order)
