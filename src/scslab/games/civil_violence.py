"""Epstein's civil violence model (Epstein 2002, PNAS 99 suppl. 3:7243-7250), model I.

Agents (citizens) and cops live on a torus grid of ``width x height`` patches.

* grievance ``G = H (1 - L)``: hardship H ~ U(0, 1) per agent, legitimacy L global;
* estimated arrest probability, two variants:

  - ``arrest_rule="netlogo"`` (NetLogo Rebellion, Wilensky 2004): ``P = 1 - exp(-k *
    floor(C / A))`` with C = cops on patches within the agent's vision and
    ``A = 1 + (active agents on patches within vision)``; the agent's own patch is in its
    vision, so an agent that is currently active is counted *again* inside that count
    (NetLogo's ``1 + count (agents-on neighborhood) with [active?]``);
  - ``arrest_rule="epstein"`` (the paper): ``P = 1 - exp(-k * C / A)`` with
    ``A = 1 + (active agents within vision other than the agent itself)``, i.e. the agent
    counts itself as active exactly once;

* net risk ``N = R P`` with risk aversion R ~ U(0, 1); an agent is active iff
  ``G - N > threshold`` (0.1);
* a cop picks one active agent within *its* vision uniformly at random, moves onto its
  patch and jails it for ``floor(u * max_jail_term)`` ticks (NetLogo's
  ``random max-jail-term``; a term of 0 frees the agent at once);
* movement: a free agent or a cop moves to a uniformly chosen patch within its vision
  that holds no cop and no free agent (jailed agents do not block); if none, it stays.

Surveillance enters through ``cop_vision`` (how far cops see and move; defaults to
``vision``) and the arrest-probability constant ``k``.

Activation order (as NetLogo's ``ask turtles``): every tick all turtles act once in a
random sequential order given by a keyed priority per turtle (cops and agents mixed);
a cop moves then enforces; a free agent moves then decides. After all have acted, every
jailed agent's term decreases by one (an agent whose term reaches 0 is free from the next
tick). Outputs after each tick: actives, jailed, quiet (free and not active).

Randomness: stream ``games.civil_violence`` (instance = replicate); day = tick mod 2**16,
slot = purpose (4 bits) | tick >> 16 (12 bits); uid = patch, turtle or agent index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numba as nb
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from scslab.numerics.rng import SlotLayout, Stream, k_philox

U64 = np.uint64
STREAM_NAME = "games.civil_violence"
SLOTS = SlotLayout((("purpose", 4), ("epoch", 12)))

P_PLACE = 0  # uid = patch: initial placement priority (day 0)
P_HARDSHIP = 1  # uid = agent (day 0)
P_RISK = 2  # uid = agent (day 0)
P_ORDER = 3  # uid = turtle: activation priority each tick
P_MOVE = 4  # uid = turtle: target patch choice
P_ARREST = 5  # uid = cop: suspect choice
P_JAIL = 6  # uid = agent: jail term


class CivilViolenceConfig(BaseModel):
    """Parameters; defaults are NetLogo Rebellion's (Wilensky 2004) for Epstein's run."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    width: int = Field(40, ge=3, le=1024)
    height: int = Field(40, ge=3, le=1024)
    agent_density: float = Field(0.70, ge=0.0, le=1.0)
    cop_density: float = Field(0.04, ge=0.0, le=1.0)
    vision: float = Field(7.0, gt=0.0, description="agents' vision radius (patches)")
    cop_vision: float | None = Field(None, gt=0.0, description="cops' vision; default = vision")
    legitimacy: float = Field(0.82, ge=0.0, le=1.0)
    max_jail_term: int = Field(30, ge=0)
    k: float = Field(2.3, ge=0.0, description="arrest probability constant")
    threshold: float = Field(0.1, description="activation threshold T")
    arrest_rule: Literal["netlogo", "epstein"] = "netlogo"
    movement: bool = True
    ticks: int = Field(500, ge=1, le=1 << 28)
    seed: int = Field(0, ge=0, lt=2**63)
    replicate: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _fits(self) -> CivilViolenceConfig:
        patches = self.width * self.height
        if round(self.agent_density * patches) + round(self.cop_density * patches) > patches:
            raise ValueError("agent_density + cop_density exceed the number of patches")
        return self


def _offsets(radius: float, width: int, height: int) -> np.ndarray:
    """Distinct patch offsets within a Euclidean torus radius (NetLogo ``in-radius``)."""
    ox, oy = np.meshgrid(np.arange(width), np.arange(height), indexing="ij")
    dx = np.minimum(ox, width - ox)
    dy = np.minimum(oy, height - oy)
    keep = dx * dx + dy * dy <= radius * radius + 1e-9
    return np.stack([ox[keep], oy[keep]], axis=1).astype(np.int64)


@nb.njit(inline="always", cache=True)
def _hi(tick, purpose):  # pragma: no cover - compiled
    t = U64(tick)
    return ((t & U64(0xFFFF)) << U64(16)) | (U64(purpose) << U64(12)) | (t >> U64(16))


@nb.njit(inline="always", cache=True)
def _below(w, n):  # pragma: no cover - compiled
    return np.int64((U64(w) * U64(n)) >> U64(32))


@nb.njit(cache=True)
def _move(k0, k1, tick, uid, x, y, width, height, offs, cop_count, free_count, buf):
    # pragma: no cover - compiled
    n = 0
    for o in range(offs.shape[0]):
        px = (x + offs[o, 0]) % width
        py = (y + offs[o, 1]) % height
        p = px * height + py
        if cop_count[p] == 0 and free_count[p] == 0:
            buf[n] = p
            n += 1
    if n == 0:
        return -1
    w0, _, _, _ = k_philox(k0, k1, uid, _hi(tick, P_MOVE), 0, 0)
    return buf[_below(w0, n)]


@nb.njit(cache=True)
def _run(
    k0, k1, ticks, width, height, n_cops, xs, ys, hardship, risk, legitimacy, k, threshold,
    max_jail, netlogo, movement, offs_agent, offs_cop, cop_r2,
):  # pragma: no cover - compiled
    n_turtles = xs.shape[0]
    n_agents = n_turtles - n_cops
    n_patches = width * height
    cop_count = np.zeros(n_patches, dtype=np.int64)
    free_count = np.zeros(n_patches, dtype=np.int64)
    active_count = np.zeros(n_patches, dtype=np.int64)
    active = np.zeros(n_agents, dtype=np.uint8)
    jail = np.zeros(n_agents, dtype=np.int64)
    grievance = hardship * (1.0 - legitimacy)
    for t in range(n_turtles):
        p = xs[t] * height + ys[t]
        if t < n_cops:
            cop_count[p] += 1
        else:
            free_count[p] += 1
    buf = np.empty(max(offs_agent.shape[0], offs_cop.shape[0]), dtype=np.int64)
    suspects = np.empty(n_agents, dtype=np.int64)
    prio = np.empty(n_turtles, dtype=np.uint64)
    out_active = np.zeros(ticks, dtype=np.int64)
    out_jailed = np.zeros(ticks, dtype=np.int64)
    out_quiet = np.zeros(ticks, dtype=np.int64)
    for tick in range(ticks):
        hi_order = _hi(tick, P_ORDER)
        for t in range(n_turtles):
            w0, w1, _, _ = k_philox(k0, k1, t, hi_order, 0, 0)
            prio[t] = (w0 << U64(32)) | w1
        order = np.argsort(prio, kind="mergesort")
        for idx in range(n_turtles):
            t = order[idx]
            x = xs[t]
            y = ys[t]
            p = x * height + y
            if t < n_cops:
                if movement:
                    target = _move(k0, k1, tick, t, x, y, width, height, offs_cop,
                                   cop_count, free_count, buf)
                    if target >= 0:
                        cop_count[p] -= 1
                        cop_count[target] += 1
                        x = target // height
                        y = target % height
                        xs[t] = x
                        ys[t] = y
                # enforce: one random active agent within the cop's vision
                n_s = 0
                for a in range(n_agents):
                    if active[a] == 1:
                        ax = xs[n_cops + a]
                        ay = ys[n_cops + a]
                        dx = abs(ax - x)
                        dy = abs(ay - y)
                        dx = min(dx, width - dx)
                        dy = min(dy, height - dy)
                        if dx * dx + dy * dy <= cop_r2:
                            suspects[n_s] = a
                            n_s += 1
                if n_s > 0:
                    w0, _, _, _ = k_philox(k0, k1, t, _hi(tick, P_ARREST), 0, 0)
                    a = suspects[_below(w0, n_s)]
                    sp = xs[n_cops + a] * height + ys[n_cops + a]
                    cop_count[xs[t] * height + ys[t]] -= 1
                    cop_count[sp] += 1
                    xs[t] = xs[n_cops + a]
                    ys[t] = ys[n_cops + a]
                    active[a] = 0
                    active_count[sp] -= 1
                    u = _jail_uniform(k0, k1, tick, a)
                    term = int(math.floor(u * max_jail))
                    jail[a] = term
                    if term > 0:
                        free_count[sp] -= 1
            else:
                a = t - n_cops
                if jail[a] > 0:
                    continue
                if movement:
                    target = _move(k0, k1, tick, t, x, y, width, height, offs_agent,
                                   cop_count, free_count, buf)
                    if target >= 0:
                        free_count[p] -= 1
                        free_count[target] += 1
                        if active[a] == 1:
                            active_count[p] -= 1
                            active_count[target] += 1
                        p = target
                        x = target // height
                        y = target % height
                        xs[t] = x
                        ys[t] = y
                cops = 0
                acts = 0
                for o in range(offs_agent.shape[0]):
                    q = ((x + offs_agent[o, 0]) % width) * height + (y + offs_agent[o, 1]) % height
                    cops += cop_count[q]
                    acts += active_count[q]
                if netlogo:
                    ratio = float(cops // (1 + acts))
                else:
                    ratio = cops / (1.0 + acts - active[a])
                prob = 1.0 - math.exp(-k * ratio)
                new = 1 if grievance[a] - risk[a] * prob > threshold else 0
                if new != active[a]:
                    active_count[p] += 1 if new == 1 else -1
                    active[a] = new
        n_act = 0
        n_jail = 0
        for a in range(n_agents):
            if jail[a] > 0:
                jail[a] -= 1
                if jail[a] == 0:
                    free_count[xs[n_cops + a] * height + ys[n_cops + a]] += 1
                else:
                    n_jail += 1
            if active[a] == 1:
                n_act += 1
        out_active[tick] = n_act
        out_jailed[tick] = n_jail
        out_quiet[tick] = n_agents - n_act - n_jail
    return out_active, out_jailed, out_quiet


@nb.njit(inline="always", cache=True)
def _jail_uniform(k0, k1, tick, a):  # pragma: no cover - compiled
    w0, w1, _, _ = k_philox(k0, k1, a, _hi(tick, P_JAIL), 0, 0)
    bits = (w0 << U64(21)) | (w1 >> U64(11))
    return (float(bits) + 0.5) * 2.0**-53


@dataclass
class CivilViolenceResult:
    """Per-tick counts and their summaries."""

    config: CivilViolenceConfig
    actives: np.ndarray
    jailed: np.ndarray
    quiet: np.ndarray

    @property
    def mean_actives(self) -> float:
        return float(self.actives.mean())

    def bursts(self, high: int | None = None, low: int | None = None) -> int:
        """Outbursts: times actives rise above ``high`` after having been below ``low``
        (defaults: 5 % and 1 % of agents)."""
        return count_bursts(self.actives, high, low, self.n_agents)

    @property
    def n_agents(self) -> int:
        return int(self.actives[0] + self.jailed[0] + self.quiet[0])

    def to_pandas(self) -> Any:
        import pandas as pd

        return pd.DataFrame(
            {"tick": np.arange(self.actives.size), "actives": self.actives,
             "jailed": self.jailed, "quiet": self.quiet}
        )


def count_bursts(actives: np.ndarray, high: int | None, low: int | None, n_agents: int) -> int:
    """Number of upward crossings of ``high`` that start from below ``low`` (hysteresis,
    so noise around one level does not count as many bursts)."""
    high = max(1, round(0.05 * n_agents)) if high is None else high
    low = round(0.01 * n_agents) if low is None else low
    armed = True
    n = 0
    for value in np.asarray(actives):
        if armed and value > high:
            n += 1
            armed = False
        elif not armed and value <= low:
            armed = True
    return n


def simulate(config: CivilViolenceConfig | None = None, **kwargs: Any) -> CivilViolenceResult:
    """Run one replicate of the civil violence model (``simulate(legitimacy=0.7, ...)``)."""
    cfg = config.model_copy(update=kwargs) if config is not None else CivilViolenceConfig(**kwargs)
    if config is not None and kwargs:
        cfg = CivilViolenceConfig.model_validate(cfg.model_dump())
    stream = Stream(cfg.seed, STREAM_NAME, instance=cfg.replicate, layout=SLOTS)
    w, h = cfg.width, cfg.height
    n_patches = w * h
    n_cops = round(cfg.cop_density * n_patches)
    n_agents = round(cfg.agent_density * n_patches)
    prio = stream.priority(0, stream.slot(purpose=P_PLACE), np.arange(n_patches))
    placed = np.lexsort((np.arange(n_patches), prio))[: n_cops + n_agents]
    xs = (placed // h).astype(np.int64)
    ys = (placed % h).astype(np.int64)
    uids = np.arange(n_agents)
    hardship = stream.uniform(0, stream.slot(purpose=P_HARDSHIP), uids)
    risk = stream.uniform(0, stream.slot(purpose=P_RISK), uids)
    cop_vision = cfg.cop_vision if cfg.cop_vision is not None else cfg.vision
    actives, jailed, quiet = _run(
        stream.k0, stream.k1, cfg.ticks, w, h, n_cops, xs, ys, hardship, risk,
        float(cfg.legitimacy), float(cfg.k), float(cfg.threshold), int(cfg.max_jail_term),
        cfg.arrest_rule == "netlogo", cfg.movement,
        _offsets(cfg.vision, w, h), _offsets(cop_vision, w, h),
        float(cop_vision * cop_vision + 1e-9),
    )
    return CivilViolenceResult(cfg, actives, jailed, quiet)


__all__ = ["CivilViolenceConfig", "CivilViolenceResult", "simulate", "count_bursts"]
