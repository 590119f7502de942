"""Officials: bribes, extortion, falsified statistics, audits and a central authority.

Three modules share one parameter block (``modules.officials``):

* ``officials`` (behaviour, DECIDE) — officials know their integrity, so their choices are
  behaviour. For each live record filed *yesterday* (``dossier@prev``) whose act carries a
  sanction ``S_a ≥ min_sanction`` (``world.consequences.sanction``: the present value of
  everything the record triggers, so harsher joint punishment makes discretion worth
  more), a keyed official of the subject's region solicits a bribe ``B = bribe_share·S_a``
  with probability ``σ(α_o + B/τ_o − β_o·integrity − δ·π_o·P_o^γ)``; the subject pays iff
  ``B ≤ liquidity_days × income`` (only those who can afford it), and the official drops
  the record: a tombstone via ``dossier.remove`` (the module declares
  ``dossier_removals``; the apparatus re-applies its rules through its removal cursor).
  Firms' regulatory records of yesterday (``firm_records``) are offered the same way, for
  ``bribe_share`` of what the record costs the firm; a dropped one is written to
  ``firms.withdrawn_bits`` and the corporate score gives its points back. Career
  incentive: each region's officials on duty press banks to lend to politically connected
  firms (``regions.lending_pressure = lending_pressure × share on duty``).
  Extortion: at ``extortion_rate`` per official-day an official may threaten a resident
  with a false record of ``extortion_act`` unless paid ``extortion_share·S``; an unable
  target gets the record with probability ``carry_out_threat``. Statistics: each region
  reports its violations to the central authority; with probability
  ``σ(α_f + reward_weight·falsify_share/τ_o − β_o·integrity − δ·π_f·P_f^γ)`` the region
  under-reports them by ``falsify_share``.
* ``official_audits`` (sensing, SENSE) — audits (``audit_probability``, finding with
  ``audit_detection``) and, where ``transparency`` is on, the public record of officials'
  conduct (``transparency_detection``) detect corrupt acts; threatened false records
  become observations with no act behind them.
* ``central_authority`` (system, SANCTION) — rewards regions on *reported* compliance,
  scores officials (public where transparent) by detected conduct, suspends those below
  ``suspension_score`` for ``suspension_days``.

Region-level figures are counted in the cell (reference group, region).
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field

from scslab.core.layouts import (
    OBSERVATION_LAYOUT,
    OBSERVATION_TRUTH_LAYOUT,
    RECORD_KIND_OBSERVATION,
    Table,
    code_table,
    unfiled,
)
from scslab.core.metrics import MetricDef
from scslab.core.module import ArraySpec, CounterSpec, Module, Phase, Role, RunsRegions
from scslab.core.population import cut_refusal
from scslab.core.scenario_schema import ModuleParams
from scslab.core.world import from_owners, owned_part
from scslab.modules.economy.firms import DOMAINS, firm_params, own_firms, record_stakes
from scslab.numerics.logistic import sigmoid
from scslab.numerics.rng import SlotLayout, StreamSpec
from scslab.numerics.sets import unique

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
LAYOUT = SlotLayout((("purpose", 8), ("act", 8)))
P_WHICH, P_SOLICIT, P_EXT_OPP, P_EXT_DECIDE, P_EXT_WHO, P_CARRY, P_FALSIFY = 1, 2, 3, 4, 5, 6, 7
P_FIRM_WHICH, P_FIRM_SOLICIT = 8, 9
P_DETECT, P_AUDIT, P_FIND = 10, 11, 12
NEVER = 0xFFFF


class OfficialParams(ModuleParams):
    enabled: bool = False
    bribe_share: Prob = 0.3
    liquidity_days: NonNeg = 10.0  # affordable: a payment up to this many days of income
    min_sanction: NonNeg = 1.0
    corruption_intercept: float = 0.0  # α_o
    integrity_weight: NonNeg = 6.0  # β_o
    gain_scale: Positive = 5.0  # τ_o money per logit unit
    deterrence_weight: NonNeg = 7.0  # δ (the people's before their issue-15 re-fit)
    severity_exponent: Annotated[float, Field(gt=0.0, le=1.0)] = 0.25
    official_penalty: NonNeg = 200.0  # money: dismissal, prosecution (present value)
    extortion_rate: Prob = 0.02  # opportunities per official-day
    extortion_share: Prob = 0.3
    extortion_act: str = "fraud"
    carry_out_threat: Prob = 0.5
    reward_weight: NonNeg = 0.0  # money a region gains per unit of reported improvement
    falsify_share: Prob = 0.3
    falsify_intercept: float = 2.0
    falsify_penalty: NonNeg = 100.0
    audit_probability: Prob = 0.01
    audit_detection: Prob = 0.8
    transparency: bool = False
    transparency_detection: Prob = 0.1
    score_base: int = 100
    score_points: Annotated[int, Field(ge=0)] = 20  # per detected corrupt act
    suspension_score: int = 60
    suspension_days: Annotated[int, Field(ge=1)] = 365
    source_code: Annotated[int, Field(ge=0, le=31)] = 29
    firm_records: bool = True  # officials also drop firms' regulatory records for a bribe
    lending_pressure: NonNeg = 0.05  # pressure on banks for connected firms (loss units)


def official_params(scenario) -> OfficialParams:
    return scenario.module_params("officials", OfficialParams)


def detection_per_act(p: OfficialParams) -> float:
    """Chance one corrupt act is detected: audits, plus the public record if transparent."""
    miss = (1.0 - p.audit_probability * p.audit_detection) * (
        1.0 - (p.transparency_detection if p.transparency else 0.0))
    return 1.0 - miss


class Officials(RunsRegions, Module):
    name = "officials"
    role = Role.BEHAVIOUR
    phase = Phase.DECIDE
    Params = OfficialParams
    doc = "Officials decide: bribes to drop records, extortion, falsified statistics."
    owns: ClassVar = (
        ArraySpec("officials.corrupt_today", "count", "officials", True,
                  "bribes taken and extortions today"),
        ArraySpec("officials.threat_target", "uid", "officials", True,
                  "resident to receive a false record today (-1 none)", fill=-1),
        ArraySpec("regions.reported_violations", "count", "regions", False,
                  "violations reported to the central authority today"),
        ArraySpec("regions.falsified", "flag", "regions", True, "report falsified today"),
        ArraySpec("firms.withdrawn_bits", "code", "firms", False,
                  "firms' domain records of yesterday dropped today for a bribe (bits 0–3)"),
        ArraySpec("regions.lending_pressure", "prob", "regions", False,
                  "officials' pressure on banks to lend to connected firms (loss units)"),
    )
    reads = ("dossier@prev", "acts", "people.income", "people.region", "people.cell",
             "officials.region", "officials.integrity", "officials.suspended_until@prev",
             "firms.record_bits@prev?", "firms.region", "firms.size")
    appends = ("dossier_removals",)
    streams = (StreamSpec("draws", LAYOUT, "which official, solicitation, extortion, "
                          "falsification"),)
    counters = (
        CounterSpec("bribe_money", "money paid in bribes (payer's cell)", real=True),
        CounterSpec("bribe_records_eligible", "records carrying a sanction (subject's cell)"),
        CounterSpec("records_dropped", "records dropped for a bribe (subject's cell)"),
        CounterSpec("bribes_unaffordable", "bribes solicited that the subject could not pay"),
        CounterSpec("extortion_attempts", "extortion threats (target's cell)"),
        CounterSpec("extortion_false_records", "threats carried out as false records"),
        CounterSpec("region_person_days", "region population × days (reference group, region)"),
        CounterSpec("statistics_gap", "true − reported violations (reference group, region)"),
        CounterSpec("corrupt_acts", "bribes, extortions and falsified reports"),
        CounterSpec("firm_records_eligible", "firms' domain records (firm's cell)"),
        CounterSpec("firm_records_dropped", "firms' domain records dropped for a bribe"),
    )
    metrics = (
        MetricDef("bribes_paid", "bribe_money", "person_days",
                  "money paid in bribes per person-day (payer's cell)",
                  theme="governance", unit="bribe money per person-days"),
        MetricDef("records_dropped_by_bribe", "records_dropped", "bribe_records_eligible",
                  "share of sanction-carrying records dropped for a bribe",
                  theme="privacy", unit="records dropped per bribe records eligible"),
        MetricDef("extortion_events", "extortion_attempts", "person_days",
                  "extortion threats per person-day (target's cell)",
                  theme="governance", unit="extortion attempts per person-days"),
        MetricDef("firm_records_dropped_by_bribe", "firm_records_dropped",
                  "firm_records_eligible",
                  "share of firms' regulatory records dropped for a bribe",
                  theme="governance", unit="firm records dropped per firm records eligible"),
        MetricDef("reported_minus_true_compliance", "statistics_gap", "region_person_days",
                  "reported compliance − true compliance, compliance = 1 − violations "
                  "per person-day",
                  theme="governance", unit="statistics gap per region person-days"),
    )

    #: on a partition of whole regions: each region's officials act on its residents
    #: (draws keyed by the resident's uid, or the official's or region's number); the
    #: officials and regions of other partitions are computed alike but count nothing here
    partitionable = True

    @classmethod
    def partition_problem(cls, params, scenario, split) -> str | None:
        return cut_refusal(split, "people.region", "each region's officials serve and "
                           "report on the whole region")

    @classmethod
    def check_params(cls, params, scenario):
        if params.enabled and params.extortion_act not in scenario.acts:
            raise ValueError(f"extortion_act: unknown act {params.extortion_act!r}")
        return params

    def setup(self, world) -> None:
        p = self.params
        oreg = world.array("officials.region").astype(np.int64)
        self.R = world.n_regions
        self.by_region = [np.flatnonzero(oreg == r) for r in range(self.R)]
        # the same lists end to end, for a keyed pick of each subject's region's official
        self.officials_by_region = np.concatenate([np.empty(0, np.int64), *self.by_region])
        sizes = np.array([m.size for m in self.by_region], dtype=np.int64)
        self.officials_per_region = sizes.astype(np.uint64)  # the keyed pick's multiplier
        self.first_official = np.cumsum(sizes) - sizes
        #: the draw slot of a solicitation, by the record's act code
        self.solicit_slots = np.array([LAYOUT.pack(purpose=P_SOLICIT, act=code)
                                       for code in range(256)], dtype=np.uint64)
        r_off, r_members = world.index("people.region", world.n_regions)
        self.residents = [r_members[r_off[r]:r_off[r + 1]] for r in range(self.R)]
        self.region_size = np.array([m.size for m in self.residents], dtype=np.float64)
        integ = world.array("officials.integrity").astype(np.float64)
        self.head_integrity = np.array([integ[m].mean() if m.size else 1.0
                                        for m in self.by_region])
        cons = world.consequences
        cat = world.catalogue
        self.sanction_by_code = np.zeros(256)
        self.sanction_by_code[cat.code] = cons.sanction
        self.pi = detection_per_act(p)
        self.deter = p.deterrence_weight * self.pi * p.official_penalty ** p.severity_exponent
        pi_f = p.audit_probability * p.audit_detection + (
            p.transparency_detection if p.transparency else 0.0)
        self.deter_f = p.deterrence_weight * min(1.0, pi_f) * (
            p.falsify_penalty ** p.severity_exponent)
        self.ext_code = int(cat.code[cat.position(p.extortion_act)])
        self.is_violation = code_table(cat.codes_of_class("violation"))
        self.ref = world.group_names.index(world.scenario.population.reference_group)
        self.firm_region = world.array("firms.region").astype(np.int64)
        self.firm_stakes = record_stakes(firm_params(world.scenario), world.array("firms.size"))
        self.officials_in = np.bincount(oreg, minlength=self.R).astype(np.float64)
        self.own = world.own_regions()
        self.own_official = self.own[oreg]
        self.own_firm = own_firms(world)
        self.partitioned = world.partitioned
        self.figures_due = False

    def _official_of(self, world, day, subject, region, purpose, keys) -> np.ndarray:
        """A keyed official of each subject's region (-1 where the region has none);
        ``keys``: the subjects' draw keys (people's uids, firms' numbers)."""
        w = world.stream("draws").words(day, LAYOUT.pack(purpose=purpose), keys)[:, 0]
        size = self.officials_per_region[region]
        out = np.full(subject.size, -1, dtype=np.int64)
        has = size > 0
        pick = (w[has].astype(np.uint64) * size[has]) >> np.uint64(32)  # below the size
        out[has] = self.officials_by_region[self.first_official[region[has]]
                                            + pick.astype(np.int64)]
        return out

    def exchange_due(self) -> str | None:
        return ("figures for other partitions' firms were not exchanged "
                "(Officials.receive_firm_figures)") if self.figures_due else None

    def step(self, world, day: int) -> None:
        p = self.params
        self.require_exchanged()
        corrupt = world.array("officials.corrupt_today")
        corrupt[:] = 0
        world.array("officials.threat_target")[:] = -1
        suspended = world.array("officials.suspended_until").astype(np.int64)
        active = (suspended == NEVER) | (suspended <= day)
        integ = world.array("officials.integrity").astype(np.float64)
        # whole-population arrays as stored: each use converts only the people it reads
        income = world.array("people.income")
        preg = world.array("people.region")
        cell = world.array("people.cell")
        c = world.counters
        st = world.stream("draws")
        if day > 0:
            self._bribes(world, day, p, corrupt, active, integ, income, preg, cell, st)
        world.array("firms.withdrawn_bits")[:] = 0
        if day > 0 and p.firm_records:
            self._firm_bribes(world, day, p, corrupt, active, integ, st)
        oreg = world.array("officials.region").astype(np.int64)
        on_duty = np.bincount(oreg[active], minlength=self.R)
        world.array("regions.lending_pressure")[:] = p.lending_pressure * on_duty / np.maximum(
            self.officials_in, 1.0)
        self._extortion(world, day, p, corrupt, active, integ, income, cell, st)
        self._statistics(world, day, p, preg, st)
        own = self.own_official
        c.add_cells("corrupt_acts", (self.ref * self.R + world.array("officials.region")
                                     .astype(np.int64))[own], corrupt[own].astype(np.float64))
        self.figures_due = self.partitioned

    def firm_figures(self, world) -> dict[str, np.ndarray]:
        """On a partition, after this module's step: what its own regions' officials did
        that other partitions' firms feel (their corporate scores and credit are computed
        in every partition alike) — each region's pressure on banks for connected firms
        and each firm's records dropped for a bribe; 0 for other regions and their firms."""
        return {"regions.lending_pressure": owned_part(
                    world.array("regions.lending_pressure"), self.own),
                "firms.withdrawn_bits": owned_part(
                    world.array("firms.withdrawn_bits"), self.own_firm).astype(np.int64)}

    def receive_firm_figures(self, world, figures: dict[str, np.ndarray]) -> None:
        """On a partition, after this module's step: :meth:`firm_figures` summed over
        partitions — each region's and firm's from the partition that owns it, which
        replace this partition's own reckoning of the others."""
        for name, own in (("regions.lending_pressure", self.own),
                          ("firms.withdrawn_bits", self.own_firm)):
            from_owners(world.array(name), figures[name], own)
        self.figures_due = False

    def _bribes(self, world, day, p, corrupt, active, integ, income, preg, cell, st) -> None:
        chunk, live = world.dossier.day_records(day - 1)
        if not len(chunk):
            return
        s_rec = self.sanction_by_code[chunk["act"]]
        rows = np.flatnonzero(live & (chunk["kind"] == RECORD_KIND_OBSERVATION)
                              & (s_rec >= p.min_sanction))
        if rows.size == 0:
            return
        subj = chunk["subject"][rows].astype(np.int64)
        acts = chunk["act"][rows]
        c = world.counters
        c.add_cells("bribe_records_eligible", cell[subj])
        off = self._official_of(world, day, subj, preg[subj].astype(np.int64), P_WHICH,
                                world.uid_of(subj))
        bribe = p.bribe_share * s_rec[rows]
        z = (p.corruption_intercept + bribe / p.gain_scale
             - p.integrity_weight * integ[np.maximum(off, 0)] - self.deter)
        u = st.uniform(day, self.solicit_slots[acts], world.uid_of(subj))  # slot: the act
        solicit = (off >= 0) & active[np.maximum(off, 0)] & (u < sigmoid(z))
        afford = bribe <= p.liquidity_days * income[subj].astype(np.float64)
        paid = solicit & afford
        c.add_cells("bribes_unaffordable", cell[subj[solicit & ~afford]])
        if paid.any():
            refs = (np.int64(day - 1) << 32) | rows[paid].astype(np.int64)
            world.dossier.remove(refs, day)
            np.add.at(corrupt, off[paid], corrupt.dtype.type(1))
            c.add_cells("records_dropped", cell[subj[paid]])
            c.add_cells("bribe_money", cell[subj[paid]], bribe[paid])

    def _firm_bribes(self, world, day, p, corrupt, active, integ, st) -> None:
        """Yesterday's regulatory records of firms: the region's official solicits
        ``bribe_share`` of what the record costs the firm (fine and listing stake, the
        firm's own valuation) by the same random-utility rule as for people; a firm always
        prefers paying to keeping the record, so a solicited record is dropped."""
        bits = world.optional("firms.record_bits")
        if bits is None:
            return
        dom = bits & np.uint8(0x0F)
        f_all = np.flatnonzero(dom)
        if f_all.size == 0:
            return
        off_all = self._official_of(world, day, f_all, self.firm_region[f_all], P_FIRM_WHICH,
                                    f_all)
        withdrawn = world.array("firms.withdrawn_bits")
        c = world.counters
        cells = self.ref * self.R + self.firm_region
        for k in range(len(DOMAINS)):  # loop over domains, not firms
            has = (dom[f_all] & np.uint8(1 << k)) != 0
            f, off = f_all[has], off_all[has]
            if f.size == 0:
                continue
            c.add_cells("firm_records_eligible", cells[f[self.own_firm[f]]])
            bribe = p.bribe_share * self.firm_stakes[f, k]
            z = (p.corruption_intercept + bribe / p.gain_scale
                 - p.integrity_weight * integ[np.maximum(off, 0)] - self.deter)
            u = st.uniform(day, LAYOUT.pack(purpose=P_FIRM_SOLICIT, act=k), f)
            paid = (off >= 0) & active[np.maximum(off, 0)] & (u < sigmoid(z))
            withdrawn[f[paid]] |= np.uint8(1 << k)
            np.add.at(corrupt, off[paid], corrupt.dtype.type(1))
            c.add_cells("firm_records_dropped", cells[f[paid & self.own_firm[f]]])

    def _extortion(self, world, day, p, corrupt, active, integ, income, cell, st) -> None:
        n_off = world.counts["officials"]
        if p.extortion_rate <= 0 or n_off == 0:
            return
        offs = np.arange(n_off, dtype=np.int64)
        opp = active & st.bernoulli(day, LAYOUT.pack(purpose=P_EXT_OPP), offs, p.extortion_rate)
        demand = p.extortion_share * self.sanction_by_code[self.ext_code]
        z = p.corruption_intercept + demand / p.gain_scale - p.integrity_weight * integ \
            - self.deter
        go = opp & (st.uniform(day, LAYOUT.pack(purpose=P_EXT_DECIDE), offs) < sigmoid(z))
        o = offs[go]
        if o.size == 0:
            return
        oreg = world.array("officials.region").astype(np.int64)[o]
        w = st.words(day, LAYOUT.pack(purpose=P_EXT_WHO), o)[:, 0].astype(np.uint64)
        target = np.full(o.size, -1, dtype=np.int64)
        for r in unique(oreg):  # loop over regions
            sel = oreg == r
            m = self.residents[r]
            if m.size:
                target[sel] = m[((w[sel] * np.uint64(m.size)) >> np.uint64(32)).astype(np.int64)]
        ok = target >= 0
        o, target = o[ok], target[ok]
        c = world.counters
        c.add_cells("extortion_attempts", cell[target])
        pays = demand <= p.liquidity_days * income[target].astype(np.float64)
        np.add.at(corrupt, o, corrupt.dtype.type(1))
        c.add_cells("bribe_money", cell[target[pays]], np.full(int(pays.sum()), demand))
        carry = ~pays & st.bernoulli(day, LAYOUT.pack(purpose=P_CARRY), o, p.carry_out_threat)
        world.array("officials.threat_target")[o[carry]] = target[carry]
        c.add_cells("extortion_false_records", cell[target[carry]])

    def _statistics(self, world, day, p, preg, st) -> None:
        acts = world.events("acts")
        viol = self.is_violation[acts["act"]]
        true = np.bincount(preg[acts["actor"][viol]].astype(np.int64),
                           minlength=self.R).astype(np.int64)
        z = (p.falsify_intercept + p.reward_weight * p.falsify_share / p.gain_scale
             - p.integrity_weight * self.head_integrity - self.deter_f)
        falsify = st.uniform(day, LAYOUT.pack(purpose=P_FALSIFY),
                             np.arange(self.R, dtype=np.int64)) < sigmoid(z)
        reported = np.where(falsify, np.floor(true * (1.0 - p.falsify_share)), true)
        world.array("regions.reported_violations")[:] = reported.astype(np.int32)
        world.array("regions.falsified")[:] = falsify
        cells = self.ref * self.R + np.arange(self.R)
        c = world.counters
        c.add_cells("region_person_days", cells, self.region_size)
        c.add_cells("statistics_gap", cells, (true - reported).astype(np.float64))
        c.add_cells("corrupt_acts", cells[falsify & self.own])


class OfficialAudits(RunsRegions, Module):
    name = "official_audits"
    switched_by = "officials"
    role = Role.SENSING
    phase = Phase.SENSE
    doc = "Audits and the public record detect corrupt acts; threats become false records."
    owns: ClassVar = (
        ArraySpec("officials.detected_today", "count", "officials", False,
                  "corrupt acts detected today"),
        ArraySpec("regions.falsification_found", "flag", "regions", False,
                  "a falsified report found today"),
    )
    reads = ("officials.corrupt_today", "officials.threat_target", "officials.region",
             "regions.falsified", "people.region")
    appends = ("observations", "observation_truth")
    partitionable = True  # draws keyed by official or region; counts its own regions'

    streams = (StreamSpec("draws", LAYOUT, "audits and detection"),)
    counters = (CounterSpec("corrupt_acts_detected", "corrupt acts detected"),)
    metrics = (
        MetricDef("corruption_detected", "corrupt_acts_detected", "corrupt_acts",
                  "share of corrupt acts (bribes, extortions, falsified reports) detected",
                  theme="governance", unit="corrupt acts detected per corrupt acts"),
    )

    def setup(self, world) -> None:
        self.p = official_params(world.scenario)
        self.pi = detection_per_act(self.p)
        cat = world.catalogue
        self.ext_code = int(cat.code[cat.position(self.p.extortion_act)])
        self.ref = world.group_names.index(world.scenario.population.reference_group)
        self.R = world.n_regions
        self.own = world.own_regions()

    def step(self, world, day: int) -> None:
        p = self.p
        st = world.stream("draws")
        k = world.array("officials.corrupt_today").astype(np.float64)
        n_off = k.size
        offs = np.arange(n_off, dtype=np.int64)
        det = world.array("officials.detected_today")
        det[:] = 0
        oreg = world.array("officials.region").astype(np.int64)
        c = world.counters
        if n_off and k.any():
            hit = (k > 0) & st.bernoulli(day, LAYOUT.pack(purpose=P_DETECT), offs,
                                         1.0 - (1.0 - self.pi) ** k)
            det[hit] = k[hit]  # a detected official's acts of the day come to light
            hit &= self.own[oreg]  # other partitions count their own officials
            c.add_cells("corrupt_acts_detected", self.ref * self.R + oreg[hit], k[hit])
        fals = world.array("regions.falsified")
        regions = np.arange(self.R, dtype=np.int64)
        audited = st.bernoulli(day, LAYOUT.pack(purpose=P_AUDIT), regions, p.audit_probability)
        p_find = np.where(audited, p.audit_detection, 0.0)
        if p.transparency:
            p_find = 1.0 - (1.0 - p_find) * (1.0 - p.transparency_detection)
        found = fals & st.bernoulli(day, LAYOUT.pack(purpose=P_FIND), regions, p_find)
        world.array("regions.falsification_found")[:] = found
        c.add_cells("corrupt_acts_detected", self.ref * self.R + regions[found & self.own])
        target = world.array("officials.threat_target")
        who = target[target >= 0].astype(np.int64)
        if who.size:
            world.append("observations", Table.from_columns(
                OBSERVATION_LAYOUT, ref=unfiled(who.size), subject=who,
                act=np.full(who.size, self.ext_code), source=np.full(who.size, p.source_code),
                sensor=np.zeros(who.size)))
            world.append("observation_truth", Table.from_columns(
                OBSERVATION_TRUTH_LAYOUT, act_ref=np.full(who.size, -1),
                true_actor=np.full(who.size, -1),
                true_act=np.zeros(who.size), erroneous=np.ones(who.size, dtype=bool),
                lawful=np.zeros(who.size, dtype=bool)))


class CentralAuthority(RunsRegions, Module):
    name = "central_authority"
    switched_by = "officials"
    role = Role.SYSTEM
    phase = Phase.SANCTION
    doc = "Rewards regions on reported compliance; scores and suspends detected officials."
    owns: ClassVar = (
        ArraySpec("officials.score", "score", "officials", False,
                  "officials' conduct score (public where transparent)"),
        ArraySpec("officials.suspended_until", "day_u16", "officials", False,
                  "suspended until this day", fill=NEVER),
        ArraySpec("regions.reward", "money", "regions", False, "reward paid today"),
    )
    reads = ("officials.detected_today", "regions.falsification_found",
             "regions.reported_violations", "people.region")
    counters = (CounterSpec("region_rewards", "rewards paid to regions (money)", real=True),)
    #: on a partition: region sizes are national figures, and every region's reported
    #: violations are handed in each day (:meth:`receive_reports`) — the mean rate is
    #: over all regions; it rewards and counts its own regions
    partitionable = True

    def setup(self, world) -> None:
        self.p = official_params(world.scenario)
        world.array("officials.score")[:] = self.p.score_base
        self.size = world.region_sizes()
        self.ref = world.group_names.index(world.scenario.population.reference_group)
        world.state["mean_rate"] = None
        self.partitioned = world.partitioned
        self.own = world.own_regions()
        self.reports_in: np.ndarray | None = None

    def reports(self, world) -> np.ndarray:
        """On a partition, before this module's step: its own regions' reported
        violations of the day (0 for the others), which the driver adds up."""
        return owned_part(world.array("regions.reported_violations"), self.own).astype(
            np.int64)

    def receive_reports(self, reported: np.ndarray) -> None:
        """On a partition, before this module's step: every region's reported
        violations of the day (:meth:`reports` summed over partitions)."""
        self.reports_in = np.asarray(reported)

    def step(self, world, day: int) -> None:
        p = self.p
        score = world.array("officials.score")
        det = world.array("officials.detected_today").astype(np.int64)
        score -= (p.score_points * det).astype(score.dtype)
        sus = world.array("officials.suspended_until")
        out = score < p.suspension_score
        end = min(day + p.suspension_days, NEVER - 1)
        sus[out] = end
        score[out] = p.score_base
        # rewards on reported compliance, withheld where a falsified report was found
        reported = world.array("regions.reported_violations")
        if self.partitioned:
            if self.reports_in is None:
                raise RuntimeError("central_authority on a partition: today's reports of "
                                   "every region were not handed in "
                                   "(CentralAuthority.receive_reports)")
            reported, self.reports_in = self.reports_in.astype(reported.dtype), None
        rate = reported / np.maximum(self.size, 1.0)
        st = world.state
        mean = rate.mean() if st["mean_rate"] is None else st["mean_rate"]
        st["mean_rate"] = mean + (rate.mean() - mean) / 30.0
        improvement = np.clip(1.0 - rate / max(st["mean_rate"], 1e-12), -1.0, 1.0)
        reward = p.reward_weight * np.maximum(improvement, 0.0)
        reward[world.array("regions.falsification_found")] = 0.0
        world.array("regions.reward")[:] = reward
        R = world.n_regions
        cells = self.ref * R + np.arange(R)
        world.counters.add_cells("region_rewards", cells[self.own], reward[self.own])
