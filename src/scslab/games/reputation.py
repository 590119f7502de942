"""The donation game with indirect reciprocity, vectorised over the population.

Two reputation models share one driver:

* ``reputation="binary"``: images are Good/Bad, judged by a norm (first order Image
  Scoring; second order Stern Judging, Simple Standing, Shunning; the third-order
  leading eight L1..L8; or a custom table). Strategies are ALLC, ALLD and DISC (DISC
  follows the norm's action rule). Assessment is ``private`` (an N x N uint8 image
  matrix observer x target; Radzvilavicius, Stewart & Plotkin 2019), ``institution``
  (Q observers feed one public uint8 vector; Radzvilavicius, Kessinger & Plotkin 2021)
  or ``public`` (an institution with one observer and strictness 0).
* ``reputation="score"``: Nowak & Sigmund (1998) image scoring: public integer scores
  (int8, clipped to [score_min, score_max], reset to 0 each generation) and threshold
  strategies k (donate iff the recipient's score >= k).

One generation, in this fixed order (see docs/games.md):

1. mutation;
2. actions and payoffs (all ordered pairs, or ``pairings`` random donor/recipient pairs;
   in score mode the pairings are played sequentially and scores change immediately);
3. reputations judged from this generation's actions, against the images held when the
   actions were taken (synchronous update);
4. strategy update (pairwise comparison, offspring proportional to payoff, or none).

Randomness: one :class:`scslab.numerics.rng.Stream` named ``games.reputation`` per replicate
(``instance`` = replicate index). The counter's 16-bit day field holds the generation
modulo 2**16; the slot holds ``purpose`` (4 bits) and ``epoch`` = generation >> 16
(12 bits), so runs may last 2**28 generations. The uid is the agent index, the packed
pair ``i * N + j``, the packed ``observer * N + donor``, or the event index.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numba as nb
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scslab.games.norms import Norm, builtin_norm, canonical_norm_name, custom_norm
from scslab.numerics.rng import SlotLayout, Stream, k_philox, probability_to_threshold
from scslab.run.pool import spawn_pool

U64 = np.uint64
STREAM_NAME = "games.reputation"
SLOTS = SlotLayout((("purpose", 4), ("epoch", 12)))
MAX_GENERATIONS = 1 << 28

# slot purposes (registered semantic positions; never running counters)
P_INIT = 0  # uid = agent: initial strategy / image
P_MUTATE = 1  # uid = agent (individual mode) or 0 (single mode)
P_ACT = 2  # uid = i * N + j (all pairs) or pairing index: w0 exec error, w1 knowledge
P_OBSERVE = 3  # uid = observer * N + donor: w0 recipient, w1 empathy, w2 assessment error
P_INSTITUTION = 4  # uid = q * N + donor: w0 recipient, w2 assessment error
P_PAIRING = 5  # uid = pairing index: w0 donor, w1 recipient
P_IMITATE = 6  # uid = imitation event: w0 learner, w1 model, (w2, w3) acceptance
P_REPRODUCE = 7  # uid = child position: (w0, w1) roulette wheel
P_ROUND = 8  # score mode, uid = round: w0 donor, w1 recipient, w2 knowledge, w3 exec error

ALLC, ALLD, DISC = 0, 1, 2
SERIES_KEYS = ("cooperation", "good", "frequencies", "payoffs")
STRATEGY_KINDS = {"ALLC": ALLC, "ALLD": ALLD, "DISC": DISC}


# --------------------------------------------------------------------------- kernels


@nb.njit(inline="always", cache=True)
def _hi(gen, purpose):  # pragma: no cover - compiled
    """Counter word 1: day = gen mod 2**16, slot = purpose << 12 | gen >> 16."""
    g = U64(gen)
    return ((g & U64(0xFFFF)) << U64(16)) | (U64(purpose) << U64(12)) | (g >> U64(16))


@nb.njit(inline="always", cache=True)
def _below(w, n):  # pragma: no cover - compiled
    """Index in [0, n) from a 32-bit word by multiply-shift (as in rng.k_alias)."""
    return np.int64((U64(w) * U64(n)) >> U64(32))


@nb.njit(inline="always", cache=True)
def _hit(w, threshold):  # pragma: no cover - compiled
    """Bernoulli from a 32-bit word and a uint32 threshold (rng.k_bernoulli semantics)."""
    t = U64(threshold)
    return t == U64(0xFFFFFFFF) or U64(w) < t


@nb.njit(inline="always", cache=True)
def _u53(w0, w1):  # pragma: no cover - compiled
    bits = (U64(w0) << U64(21)) | (U64(w1) >> U64(11))
    return (float(bits) + 0.5) * 2.0**-53


@nb.njit(inline="always", cache=True)
def _other(w, n, i, self_ok):  # pragma: no cover - compiled
    """A uniform partner of i: any of n if self_ok, else one of the n - 1 others."""
    if self_ok:
        return _below(w, n)
    j = _below(w, n - 1)
    if j >= i:
        j += 1
    return j


@nb.njit(inline="always", cache=True)
def _donor_action(kind, own, rep, act_rule, draw_act, k0, k1, uid, hi_act, know_thr,
                  e1_thr):  # pragma: no cover - compiled
    """What a donor does (1 cooperate, 0 defect): its strategy's intention, then — keyed
    by the interaction — whether a discriminator knows the recipient (an unknown one is
    treated as good) and whether an intended cooperation fails (execution error)."""
    if kind == ALLC:
        a = 1
    elif kind == ALLD:
        a = 0
    else:
        a = act_rule[own, rep]
    if draw_act and kind != ALLD:
        w0, w1, _, _ = k_philox(k0, k1, uid, hi_act, 0, 0)
        if kind == DISC and not _hit(w1, know_thr):
            a = act_rule[own, 1]
        if a == 1 and e1_thr != 0 and _hit(w0, e1_thr):
            a = 0
    return a


@nb.njit(cache=True)
def _mutate(k0, k1, gen, strat, n_strat, mut_thr, single):  # pragma: no cover - compiled
    """Switch to a uniformly chosen *other* permitted strategy."""
    n = strat.shape[0]
    if mut_thr == 0 or n_strat < 2:
        return
    hi = _hi(gen, P_MUTATE)
    if single:
        w0, w1, w2, _ = k_philox(k0, k1, 0, hi, 0, 0)
        if _hit(w0, mut_thr):
            i = _below(w1, n)
            s = _below(w2, n_strat - 1)
            if s >= strat[i]:
                s += 1
            strat[i] = s
        return
    for i in range(n):
        w0, w1, _, _ = k_philox(k0, k1, i, hi, 0, 0)
        if _hit(w0, mut_thr):
            s = _below(w1, n_strat - 1)
            if s >= strat[i]:
                s += 1
            strat[i] = s


@nb.njit(cache=True)
def _update(k0, k1, gen, strat, payoff, rule, events, w, baseline):  # pragma: no cover
    """Strategy update. rule 0: none, 1: pairwise comparison, 2/3: offspring in proportion
    to fitness = payoff - min payoff + baseline (2, "shifted") or max(payoff, 0) + baseline
    (3, "clipped")."""
    n = strat.shape[0]
    if rule == 1:
        hi = _hi(gen, P_IMITATE)
        for e in range(events):
            w0, w1, w2, w3 = k_philox(k0, k1, e, hi, 0, 0)
            i = _below(w0, n)
            j = _other(w1, n, i, False)
            p = 1.0 / (1.0 + math.exp(-w * (payoff[j] - payoff[i])))
            if _u53(w2, w3) < p:
                strat[i] = strat[j]
    elif rule == 2 or rule == 3:
        lo = payoff[0]
        for i in range(n):
            if payoff[i] < lo:
                lo = payoff[i]
        if rule == 3:
            lo = 0.0
        cum = np.empty(n)
        total = 0.0
        for i in range(n):
            total += max(payoff[i] - lo, 0.0) + baseline
            cum[i] = total
        old = strat.copy()
        hi = _hi(gen, P_REPRODUCE)
        for c in range(n):
            w0, w1, _, _ = k_philox(k0, k1, c, hi, 0, 0)
            u = _u53(w0, w1)
            if total <= 0.0:
                parent = _below(w0, n)
            else:
                parent = np.searchsorted(cum, u * total, side="right")
                if parent >= n:
                    parent = n - 1
            strat[c] = old[parent]


@nb.njit(cache=True)
def _record(strat, n_strat, freq_row):  # pragma: no cover - compiled
    n = strat.shape[0]
    for s in range(n_strat):
        freq_row[s] = 0.0
    for i in range(n):
        freq_row[strat[i]] += 1.0
    for s in range(n_strat):
        freq_row[s] /= n


@nb.njit(cache=True)
def _record_payoff(strat, payoff, n_strat, row):  # pragma: no cover - compiled
    """Mean payoff per strategy this generation (NaN where the strategy is absent)."""
    count = np.zeros(n_strat)
    for s in range(n_strat):
        row[s] = 0.0
    for i in range(strat.shape[0]):
        row[strat[i]] += payoff[i]
        count[strat[i]] += 1.0
    for s in range(n_strat):
        row[s] = row[s] / count[s] if count[s] > 0 else np.nan


@nb.njit(cache=True)
def _run_binary(
    k0, k1, strat, image, kinds, assess, act_rule, generations, b, c,
    assessment, q_obs, strictness, e1_thr, e2_thr, emp_thr, know_thr,
    mut_thr, mut_single, rule, events, w, baseline,
    pairings, self_ok, payoff_mean,
):  # pragma: no cover - compiled
    """Binary images. assessment 0 = private (image is N x N), 1 = institution (image is
    1 x N, row 0 is the public vector)."""
    n = strat.shape[0]
    n_strat = kinds.shape[0]
    coop = np.zeros(generations)
    good = np.zeros(generations)
    freq = np.zeros((generations, n_strat))
    mean_pay = np.zeros((generations, n_strat))
    payoff = np.zeros(n)
    private = assessment == 0
    new_image = image.copy()
    all_pairs = pairings == 0
    if all_pairs:
        actions = np.zeros((n, n), dtype=np.uint8)
        n_inter = n * n if self_ok else n * (n - 1)
    else:
        actions = np.zeros((1, 1), dtype=np.uint8)
        n_inter = pairings
    p_donor = np.zeros(max(pairings, 1), dtype=np.int64)
    p_recip = np.zeros(max(pairings, 1), dtype=np.int64)
    p_act = np.zeros(max(pairings, 1), dtype=np.uint8)
    start = np.zeros(n + 1, dtype=np.int64)
    by_donor = np.zeros(max(pairings, 1), dtype=np.int64)
    fill = np.zeros(n, dtype=np.int64)
    draw_act = e1_thr != 0 or know_thr != U64(0xFFFFFFFF)
    scale = 1.0 / n if payoff_mean else 1.0
    for gen in range(generations):
        # 1. mutation
        _mutate(k0, k1, gen, strat, n_strat, mut_thr, mut_single)
        _record(strat, n_strat, freq[gen])
        # 2. actions and payoffs
        for i in range(n):
            payoff[i] = 0.0
        n_coop = 0
        hi_act = _hi(gen, P_ACT)
        if all_pairs:
            for i in range(n):
                kind = kinds[strat[i]]
                own = image[i, i] if private else image[0, i]
                for j in range(n):
                    if j == i and not self_ok:
                        continue
                    rep = image[i, j] if private else image[0, j]
                    a = _donor_action(kind, own, rep, act_rule, draw_act, k0, k1, i * n + j,
                                      hi_act, know_thr, e1_thr)
                    actions[i, j] = a
                    if a == 1:
                        n_coop += 1
                        payoff[i] -= c
                        payoff[j] += b
        else:
            hi_pair = _hi(gen, P_PAIRING)
            for i in range(n + 1):
                start[i] = 0
            for p in range(pairings):
                w0, w1, _, _ = k_philox(k0, k1, p, hi_pair, 0, 0)
                i = _below(w0, n)
                j = _other(w1, n, i, self_ok)
                kind = kinds[strat[i]]
                own = image[i, i] if private else image[0, i]
                rep = image[i, j] if private else image[0, j]
                a = _donor_action(kind, own, rep, act_rule, draw_act, k0, k1, p, hi_act,
                                  know_thr, e1_thr)
                p_donor[p] = i
                p_recip[p] = j
                p_act[p] = a
                start[i + 1] += 1
                if a == 1:
                    n_coop += 1
                    payoff[i] -= c
                    payoff[j] += b
            for i in range(n):
                start[i + 1] += start[i]
                fill[i] = start[i]
            for p in range(pairings):
                d = p_donor[p]
                by_donor[fill[d]] = p
                fill[d] += 1
        if payoff_mean:
            for i in range(n):
                payoff[i] *= scale
        coop[gen] = n_coop / n_inter if n_inter > 0 else 0.0
        # 3. reputations (judged against the images used for acting: synchronous)
        if private:
            hi_obs = _hi(gen, P_OBSERVE)
            for o in range(n):
                for d in range(n):
                    w0, w1, w2, _ = k_philox(k0, k1, o * n + d, hi_obs, 0, 0)
                    if all_pairs:
                        r = _other(w0, n, d, self_ok)
                        a = actions[d, r]
                    else:
                        cnt = start[d + 1] - start[d]
                        if cnt == 0:
                            new_image[o, d] = image[o, d]
                            continue
                        p = by_donor[start[d] + _below(w0, cnt)]
                        r = p_recip[p]
                        a = p_act[p]
                    if emp_thr != 0 and _hit(w1, emp_thr):
                        rrep = image[d, r]
                    else:
                        rrep = image[o, r]
                    g = assess[image[o, d], a, rrep]
                    if e2_thr != 0 and _hit(w2, e2_thr):
                        g = 1 - g
                    new_image[o, d] = g
        else:
            hi_inst = _hi(gen, P_INSTITUTION)
            limit = strictness * q_obs
            for d in range(n):
                if not all_pairs and start[d + 1] == start[d]:
                    new_image[0, d] = image[0, d]
                    continue
                votes = 0
                for q in range(q_obs):
                    w0, _, w2, _ = k_philox(k0, k1, q * n + d, hi_inst, 0, 0)
                    if all_pairs:
                        r = _other(w0, n, d, self_ok)
                        a = actions[d, r]
                    else:
                        cnt = start[d + 1] - start[d]
                        p = by_donor[start[d] + _below(w0, cnt)]
                        r = p_recip[p]
                        a = p_act[p]
                    g = assess[image[0, d], a, image[0, r]]
                    if e2_thr != 0 and _hit(w2, e2_thr):
                        g = 1 - g
                    votes += g
                new_image[0, d] = 1 if votes > limit else 0
        image, new_image = new_image, image
        total_good = 0
        for o in range(image.shape[0]):
            for t in range(n):
                total_good += image[o, t]
        good[gen] = total_good / (image.shape[0] * n)
        # 4. strategy update
        _record_payoff(strat, payoff, n_strat, mean_pay[gen])
        _update(k0, k1, gen, strat, payoff, rule, events, w, baseline)
    return coop, good, freq, mean_pay


@nb.njit(cache=True)
def _run_score(
    k0, k1, strat, thresholds, generations, b, c, rounds, lo, hi_score,
    e1_thr, e2_thr, know_thr, unknown_score,
    mut_thr, mut_single, rule, events, w, baseline, self_ok, payoff_mean,
):  # pragma: no cover - compiled
    """Nowak & Sigmund (1998) image scoring with public scores and thresholds."""
    n = strat.shape[0]
    n_strat = thresholds.shape[0]
    coop = np.zeros(generations)
    good = np.zeros(generations)
    freq = np.zeros((generations, n_strat))
    mean_pay = np.zeros((generations, n_strat))
    payoff = np.zeros(n)
    score = np.zeros(n, dtype=np.int8)
    for gen in range(generations):
        _mutate(k0, k1, gen, strat, n_strat, mut_thr, mut_single)
        _record(strat, n_strat, freq[gen])
        for i in range(n):
            payoff[i] = 0.0
            score[i] = 0
        n_coop = 0
        hi_round = _hi(gen, P_ROUND)
        for t in range(rounds):
            w0, w1, w2, w3 = k_philox(k0, k1, t, hi_round, 0, 0)
            d = _below(w0, n)
            r = _other(w1, n, d, self_ok)
            seen = score[r] if _hit(w2, know_thr) else unknown_score
            a = 1 if seen >= thresholds[strat[d]] else 0
            if a == 1 and e1_thr != 0 and _hit(w3, e1_thr):
                a = 0
            delta = 1 if a == 1 else -1
            if e2_thr != 0:
                v0, _, _, _ = k_philox(k0, k1, t, hi_round, 1, 0)
                if _hit(v0, e2_thr):
                    delta = -delta
            s = score[d] + delta
            if s > hi_score:
                s = hi_score
            if s < lo:
                s = lo
            score[d] = s
            if a == 1:
                n_coop += 1
                payoff[d] -= c
                payoff[r] += b
        if payoff_mean:
            for i in range(n):
                payoff[i] /= n
        coop[gen] = n_coop / rounds if rounds > 0 else 0.0
        n_good = 0
        for i in range(n):
            if score[i] >= 0:
                n_good += 1
        good[gen] = n_good / n
        _record_payoff(strat, payoff, n_strat, mean_pay[gen])
        _update(k0, k1, gen, strat, payoff, rule, events, w, baseline)
    return coop, good, freq, mean_pay


# --------------------------------------------------------------------------- config


class CustomNormSpec(BaseModel):
    """A user norm: assessment keys 'CG' (action, recipient) or 'GCB' (donor, action,
    recipient) mapping to 'G'/'B'; optional action keys 'G' or 'GB' mapping to 'C'/'D'."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    assessment: dict[str, str]
    action: dict[str, str] | None = None

    @model_validator(mode="after")
    def _check(self) -> CustomNormSpec:
        custom_norm(self.assessment, self.action)
        return self


Probability = Field(ge=0.0, le=1.0)
StrategyName = str | int


class ReputationConfig(BaseModel):
    """Everything that defines a reputation-game run (see docs/games.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    population: int = Field(50, ge=2, le=65535, description="N agents")
    benefit: float = Field(2.0, ge=0.0, description="b, received by the recipient of C")
    cost: float = Field(1.0, ge=0.0, description="c, paid by a cooperating donor")
    norm: str | CustomNormSpec = "stern_judging"
    reputation: Literal["binary", "score"] = "binary"
    assessment: Literal["private", "institution", "public"] = "private"
    empathy: float = Field(0.0, ge=0.0, le=1.0, description="E (private assessment only)")
    observers: int = Field(1, ge=1, le=65535, description="Q institutional observers")
    strictness: float = Field(0.5, ge=0.0, lt=1.0, description="good iff votes > s*Q")
    execution_error: float = Field(0.0, ge=0.0, le=1.0)
    assessment_error: float = Field(0.0, ge=0.0, le=1.0)
    knowledge: float = Field(
        1.0, ge=0.0, le=1.0, description="q: chance a donor knows the recipient's image"
    )
    unknown_score: int = Field(0, description="score mode: image assumed when unknown")
    score_min: int = Field(-5, ge=-127, le=0)
    score_max: int = Field(5, ge=0, le=127)
    mutation: float = Field(0.0, ge=0.0, le=1.0)
    mutation_mode: Literal["individual", "single"] = "individual"
    selection: float = Field(1.0, ge=0.0, description="w in the Fermi imitation rule")
    imitations_per_generation: int = Field(1, ge=0)
    update: Literal["pairwise", "proportional", "none"] = "pairwise"
    fitness: Literal["shifted", "clipped"] = Field(
        "clipped",
        description="proportional: payoff - min payoff + baseline, or max(payoff, 0) + baseline",
    )
    fitness_baseline: float = Field(0.0, ge=0.0, description="added to every fitness")
    self_interaction: bool = False
    payoff: Literal["sum", "mean"] = "sum"
    pairings: int | None = Field(
        None, ge=1, description="random pairings per generation; None = all ordered pairs"
    )
    strategies: tuple[StrategyName, ...] = ("ALLC", "ALLD", "DISC")
    initial: dict[str, float] | None = Field(
        None, description="initial strategy shares (default: uniform random)"
    )
    initial_image: Literal["good", "bad", "random"] = "good"
    generations: int = Field(1000, ge=1, le=MAX_GENERATIONS)
    burn_in: int = Field(0, ge=0)
    replicates: int = Field(1, ge=1)
    seed: int = Field(0, ge=0, lt=2**63)
    workers: int = Field(1, ge=1)

    @field_validator("norm", mode="before")
    @classmethod
    def _norm_name(cls, v: Any) -> Any:
        if isinstance(v, str):
            return canonical_norm_name(v)
        return v

    @field_validator("strategies", mode="before")
    @classmethod
    def _strategies(cls, v: Any) -> Any:
        if isinstance(v, str | int):
            v = [v]
        out: list[str | int] = []
        for s in v:
            out.append(_normalise_strategy(s))
        if not out:
            raise ValueError("at least one strategy must be permitted")
        if len(set(out)) != len(out):
            raise ValueError(f"strategies repeat an entry: {out}")
        return tuple(out)

    @model_validator(mode="after")
    def _consistent(self) -> ReputationConfig:
        if self.burn_in >= self.generations:
            raise ValueError(
                f"burn_in ({self.burn_in}) must be smaller than generations ({self.generations})"
            )
        if self.reputation == "score":
            if self.norm != "image_scoring":
                raise ValueError("reputation='score' is Nowak-Sigmund image scoring: norm must be image_scoring")
            if self.assessment != "public":
                raise ValueError("reputation='score' uses public scores: set assessment='public'")
            if self.pairings is None:
                raise ValueError("reputation='score' needs pairings (e.g. 125 per generation)")
            if self.score_min >= self.score_max:
                raise ValueError("score_min must be below score_max")
        else:
            bad = [s for s in self.strategies if not isinstance(s, str)]
            if bad:
                raise ValueError(
                    f"threshold strategies {bad} need reputation='score' (image scoring)"
                )
            if self.population * self.population >= 2**32:
                raise ValueError("population too large for packed pair uids")
        if self.assessment == "institution" and self.observers * self.population >= 2**32:
            raise ValueError("observers * population must stay below 2**32")
        if self.empathy > 0 and self.assessment != "private":
            raise ValueError("empathy applies to private assessment only")
        if self.initial is not None:
            names = [strategy_label(s) for s in self.strategies]
            unknown = set(self.initial) - set(names)
            if unknown:
                raise ValueError(f"initial shares name unknown strategies {sorted(unknown)}; permitted: {names}")
            total = sum(self.initial.values())
            if any(x < 0 for x in self.initial.values()) or not math.isclose(total, 1.0, abs_tol=1e-6):
                raise ValueError(f"initial shares must be non-negative and sum to 1, got {total}")
        return self

    def norm_table(self) -> Norm:
        if isinstance(self.norm, CustomNormSpec):
            return custom_norm(self.norm.assessment, self.norm.action)
        return builtin_norm(self.norm)

    def strategy_labels(self) -> list[str]:
        return [strategy_label(s) for s in self.strategies]


def _normalise_strategy(s: Any) -> str | int:
    if isinstance(s, bool):
        raise ValueError(f"invalid strategy {s!r}")
    if isinstance(s, int):
        return s
    text = str(s).strip()
    up = text.upper()
    if up in STRATEGY_KINDS:
        return up
    for prefix in ("K=", "K"):
        if up.startswith(prefix):
            try:
                return int(up[len(prefix):])
            except ValueError:
                break
    try:
        return int(text)
    except ValueError:
        pass
    raise ValueError(
        f"unknown strategy {s!r}; use ALLC, ALLD, DISC or an image-score threshold k (e.g. 0 or 'k=-2')"
    )


def strategy_label(s: str | int) -> str:
    return s if isinstance(s, str) else f"k={s}"


# --------------------------------------------------------------------------- driver


def _initial_strategies(cfg: ReputationConfig, stream: Stream) -> np.ndarray:
    n = cfg.population
    labels = cfg.strategy_labels()
    if cfg.initial is None:
        words = stream.words(0, stream.slot(purpose=P_INIT), np.arange(n))
        return ((words[:, 0].astype(np.uint64) * np.uint64(len(labels))) >> np.uint64(32)).astype(
            np.int64
        )
    shares = np.array([cfg.initial.get(lab, 0.0) for lab in labels])
    counts = np.floor(shares * n).astype(np.int64)
    remainder = shares * n - counts
    for idx in np.argsort(-remainder, kind="stable")[: n - counts.sum()]:
        counts[idx] += 1
    return np.repeat(np.arange(len(labels), dtype=np.int64), counts)


def _threshold(p: float) -> np.uint32:
    return np.uint32(probability_to_threshold(p))


def run_replicate(cfg: ReputationConfig, replicate: int) -> dict[str, np.ndarray]:
    """One replicate: per-generation series (cooperation, good, frequencies)."""
    stream = Stream(cfg.seed, STREAM_NAME, instance=replicate, layout=SLOTS)
    strat = _initial_strategies(cfg, stream)
    rule = {"none": 0, "pairwise": 1, "proportional": 2}[cfg.update]
    if rule == 2 and cfg.fitness == "clipped":
        rule = 3
    common = dict(
        mut_thr=_threshold(cfg.mutation),
        mut_single=cfg.mutation_mode == "single",
        rule=rule,
        events=cfg.imitations_per_generation,
        w=float(cfg.selection),
        baseline=float(cfg.fitness_baseline),
        self_ok=cfg.self_interaction,
        payoff_mean=cfg.payoff == "mean",
    )
    if cfg.reputation == "score":
        thresholds = np.array(
            [_score_threshold(s, cfg) for s in cfg.strategies], dtype=np.int64
        )
        coop, good, freq, pay = _run_score(
            stream.k0, stream.k1, strat, thresholds, cfg.generations,
            float(cfg.benefit), float(cfg.cost), int(cfg.pairings or 0),
            cfg.score_min, cfg.score_max,
            _threshold(cfg.execution_error), _threshold(cfg.assessment_error),
            _threshold(cfg.knowledge), cfg.unknown_score, **common,
        )
    else:
        norm = cfg.norm_table()
        kinds = np.array([STRATEGY_KINDS[s] for s in cfg.strategies], dtype=np.int64)
        n = cfg.population
        private = cfg.assessment == "private"
        rows = n if private else 1
        if cfg.initial_image == "good":
            image = np.ones((rows, n), dtype=np.uint8)
        elif cfg.initial_image == "bad":
            image = np.zeros((rows, n), dtype=np.uint8)
        else:
            uids = np.arange(rows * n)
            words = stream.words(0, stream.slot(purpose=P_INIT), uids, block=1)
            image = (words[:, 0] >> 31).astype(np.uint8).reshape(rows, n)
        q_obs, strict = (
            (1, 0.0) if cfg.assessment == "public" else (cfg.observers, cfg.strictness)
        )
        coop, good, freq, pay = _run_binary(
            stream.k0, stream.k1, strat, image, kinds, norm.assess, norm.act,
            cfg.generations, float(cfg.benefit), float(cfg.cost),
            0 if private else 1, q_obs, float(strict),
            _threshold(cfg.execution_error), _threshold(cfg.assessment_error),
            _threshold(cfg.empathy), _threshold(cfg.knowledge),
            pairings=int(cfg.pairings or 0), **common,
        )
    return {"cooperation": coop, "good": good, "frequencies": freq, "payoffs": pay}


def _score_threshold(s: str | int, cfg: ReputationConfig) -> int:
    if isinstance(s, int):
        return s
    return {"ALLC": cfg.score_min, "ALLD": cfg.score_max + 1, "DISC": 0}[s]


def _t95(df: int) -> float:
    """Two-sided 95 % Student t quantile (table to df 30, then the normal value)."""
    table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
             2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
             2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
    return table[df - 1] if 1 <= df <= 30 else 1.96


@dataclass
class ReputationResult:
    """Replicate series and their post-burn-in summaries.

    ``series[name]`` has shape (replicates, generations) for ``cooperation`` and ``good``
    and (replicates, generations, strategies) for ``frequencies`` and ``payoffs`` (mean
    payoff per strategy, NaN where absent).
    """

    config: ReputationConfig
    series: dict[str, np.ndarray]
    strategies: list[str]
    cooperation: float = 0.0
    interval: tuple[float, float] = (math.nan, math.nan)
    good: float = 0.0
    frequencies: dict[str, float] = field(default_factory=dict)
    per_replicate: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        b = self.config.burn_in
        per_rep = self.series["cooperation"][:, b:].mean(axis=1)
        self.per_replicate = per_rep
        self.cooperation = float(per_rep.mean())
        r = per_rep.size
        if r > 1:
            half = _t95(r - 1) * per_rep.std(ddof=1) / math.sqrt(r)
            self.interval = (
                float(max(0.0, self.cooperation - half)),
                float(min(1.0, self.cooperation + half)),
            )
        else:
            self.interval = (self.cooperation, self.cooperation)
        self.good = float(self.series["good"][:, b:].mean())
        freq = self.series["frequencies"][:, b:, :].mean(axis=(0, 1))
        self.frequencies = {s: float(f) for s, f in zip(self.strategies, freq, strict=True)}

    def to_pandas(self) -> Any:
        """Long table: one row per (replicate, generation)."""
        import pandas as pd

        reps, gens = self.series["cooperation"].shape
        data: dict[str, Any] = {
            "replicate": np.repeat(np.arange(reps), gens),
            "generation": np.tile(np.arange(gens), reps),
            "cooperation": self.series["cooperation"].ravel(),
            "good": self.series["good"].ravel(),
        }
        for k, s in enumerate(self.strategies):
            data[f"freq_{s}"] = self.series["frequencies"][:, :, k].ravel()
            data[f"payoff_{s}"] = self.series["payoffs"][:, :, k].ravel()
        return pd.DataFrame(data)


def _worker(payload: tuple[dict[str, Any], int]) -> dict[str, np.ndarray]:
    cfg_dict, r = payload
    return run_replicate(ReputationConfig.model_validate(cfg_dict), r)


def simulate(config: ReputationConfig | dict[str, Any] | None = None, **kwargs: Any) -> ReputationResult:
    """Run all replicates (optionally in ``workers`` processes) and summarise them.

    ``simulate(population=50, norm="stern-judging", assessment="institution", ...)`` is a
    shortcut for ``simulate(ReputationConfig(...))``. Results do not depend on workers.
    """
    if config is None:
        cfg = ReputationConfig(**kwargs)
    elif isinstance(config, ReputationConfig):
        cfg = config.model_copy(update=kwargs) if kwargs else config
        if kwargs:
            cfg = ReputationConfig.model_validate(cfg.model_dump())
    else:
        cfg = ReputationConfig(**{**config, **kwargs})
    reps = range(cfg.replicates)
    if cfg.workers > 1 and cfg.replicates > 1:
        dumped = cfg.model_dump()
        with spawn_pool(min(cfg.workers, cfg.replicates)) as pool:
            outs = list(pool.map(_worker, [(dumped, r) for r in reps]))
    else:
        outs = [run_replicate(cfg, r) for r in reps]
    series = {
        key: np.stack([o[key] for o in outs]) for key in SERIES_KEYS
    }
    return ReputationResult(config=cfg, series=series, strategies=cfg.strategy_labels())


def analytic_good_private_disc(norm: str, empathy: float, e1: float, e2: float) -> float:
    """Fixed point of the share of good discriminators in an all-DISC population under
    private assessment with second-order norms (Radzvilavicius et al. 2019, eqs. for
    g_Z with f_Z = 1 and views of different observers independent).

    Used as the published target in the validation suite.
    """
    nm = builtin_norm(norm)
    a = nm.assess[1]  # second order: donor row irrelevant

    def step(g: float) -> float:
        # donor's view of the recipient is G with prob g; observer's view independently g
        # (E = 0) or identical to the donor's (E = 1).
        total = 0.0
        for donor_sees in (1, 0):
            pd_ = g if donor_sees else 1 - g
            for act, pa in ((1, 1 - e1), (0, e1)) if donor_sees else ((0, 1.0),):
                for obs_sees, po in ((1, g), (0, 1 - g)):
                    p_emp = empathy * (1.0 if obs_sees == donor_sees else 0.0)
                    p_obs = (1 - empathy) * po + p_emp
                    judged = a[act, obs_sees]
                    p_good = (1 - e2) if judged else e2
                    total += pd_ * pa * p_obs * p_good
        return total

    g = 0.9
    for _ in range(10_000):
        g_new = step(g)
        if abs(g_new - g) < 1e-13:
            break
        g = g_new
    return g


def summarize(result: ReputationResult) -> dict[str, Any]:
    """Plain-dict summary (for the CLI and JSON output)."""
    return {
        "cooperation": result.cooperation,
        "interval": list(result.interval),
        "good": result.good,
        "frequencies": result.frequencies,
        "replicates": int(result.per_replicate.size),
    }


__all__: Sequence[str] = (
    "ReputationConfig",
    "ReputationResult",
    "CustomNormSpec",
    "simulate",
    "run_replicate",
    "analytic_good_private_disc",
    "summarize",
)
