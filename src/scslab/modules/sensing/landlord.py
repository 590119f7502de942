"""The landlord's entrance camera (Atlantic Plaza Towers, Brooklyn, 2019).

Part of the ``surveillance`` sensing module (``modules.surveillance.landlord``): it sees
what happens at the building's doors, and its owner acts on what it sees.

* **Tenancy**: whole households are tenants with probability ``tenant_share`` (regions
  ``regions``), drawn once. Enrolment of the tenant's face is the condition of entry
  (with ``consent_required``, only tenants who consent — ``consent_share`` — are enrolled;
  the others use a key, and guests are never captured).
* **Capture**: acts at the camera's ``venues`` (the act's venue column, so displaced acts
  are missed) by tenants are captured with probability ``coverage``; ``guest_acts`` there
  by anyone else are guests' visits, captured with probability ``coverage ×
  tenant_share`` (the visit is to one of the landlord's buildings) — without consent.
  Other acts of non-tenants at such venues happen in other landlords' buildings.
* **Identification** by face against the enrolled tenants: a tenant is not recognised
  with probability FNMR_i (and turned away if the act is an entry), misidentified as
  another tenant with ``1 − (1 − FMR_i)^G``; a guest is falsely matched to a tenant with
  the same probability, otherwise kept as an unnamed face.
* **Private sanctions**: a capture of an act in ``sanctioned_acts`` (house rules) fines
  the tenant it names ``fine`` (money) — with no appeal. A fined tenant joins the
  complaint with probability ``join_if_sanctioned``.
* **Collective action**: a tenant joins the complaint after an exponential time with
  daily hazard ``join_rate × privacy_concern_i`` (or when fined). Once the share of
  tenants who joined reaches ``threshold``, the tenants complain to the housing
  regulator (with ``approval_weight`` w > 0 the hazard is multiplied by
  ``exp(−w·(logit a_i − logit ā))``, a_i the tenant's approval of the system from
  ``attitudes`` at day 0, ā its mean: those who approve complain less — assumption);
  ``regulator_days`` later the regulator removes the system with probability
  ``removal_probability`` (one draw). After removal nothing is captured.
* **Who receives the data**: the landlord always; ``vendor`` and ``police`` as listed in
  ``receives``. With ``police``, identified captures become observations (records).

The owner's decisions use only what the camera reports (the named tenant), not truth.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from scslab.core.layouts import (
    OBSERVATION_LAYOUT,
    OBSERVATION_TRUTH_LAYOUT,
    Table,
    pack_ref,
    unfiled,
)
from scslab.core.scenario_schema import Strict
from scslab.modules.sensing.face_recognition import false_alarm_probability
from scslab.modules.sensing.sensor_draws import setup_slot
from scslab.numerics.sets import unique

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
NEVER = 0xFFFF
# purposes of the setup and daily landlord draws (SETUP_LAYOUT / SENSOR_LAYOUT slots)
P_TENANCY, P_CONSENT, P_JOIN_TIME, P_REGULATOR, P_JOIN_NOW = 3, 4, 5, 6, 7


class LandlordParams(Strict):
    enabled: bool = False
    code: Annotated[int, Field(ge=1, le=255)] = 200  # sensor code of the camera
    venues: list[str] = Field(default_factory=list)  # entrance, lobby, common room
    regions: list[Annotated[int, Field(ge=0)]] | Literal["all"] = "all"
    tenant_share: Prob = 0.1  # share of households living in the landlord's buildings
    coverage: Prob = 1.0
    identification: Literal["face", "document"] = "face"
    receives: list[Literal["vendor", "police"]] = Field(default_factory=list)
    consent_required: bool = False
    consent_share: Prob = 1.0
    entry_acts: list[str] = Field(default_factory=list)  # unrecognised tenant: turned away
    guest_acts: list[str] = Field(default_factory=list)  # by a non-tenant: a guest's visit
    sanctioned_acts: list[str] = Field(default_factory=list)  # house rules
    fine: Annotated[float, Field(ge=0.0)] = 2.0  # money per private sanction
    join_rate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.001
    join_if_sanctioned: Prob = 0.5
    approval_weight: Annotated[float, Field(ge=0.0)] = 0.0  # approval → complaint (assumption)
    threshold: Prob = 0.3
    regulator_days: Annotated[int, Field(ge=0)] = 90
    removal_probability: Prob = 1.0

    @property
    def parties(self) -> int:
        """Parties with access: the landlord, plus the vendor and the police if they receive."""
        return 1 + ("vendor" in self.receives) + ("police" in self.receives)


def check_landlord(p: LandlordParams, scenario, where: str = "landlord") -> None:
    for v in p.venues:
        if v not in scenario.venues:
            raise ValueError(f"{where}.venues: unknown venue {v!r}")
    for field in ("entry_acts", "guest_acts", "sanctioned_acts"):
        for a in getattr(p, field):
            if a not in scenario.acts:
                raise ValueError(f"{where}.{field}: unknown act {a!r}")
    if p.regions != "all":
        for r in p.regions:
            if r >= scenario.population.regions:
                raise ValueError(f"{where}.regions: region {r} out of range")


@dataclass(frozen=True)
class CameraReads:
    """What the camera reads of the surveillance module that owns it, declared: the face
    matcher's per-person error rates (FMR, FNMR of the people asked about, recomputed for
    those seen rather than held for everyone) and the venues' sensitivity, set up by the
    owner, and the source code its observations carry."""

    sensitivity: np.ndarray  # by venue code
    face_rates: Callable[[Any, np.ndarray], tuple[np.ndarray, np.ndarray]]
    #: the owner's keyed draws about people (world, stream, day, sensor, act codes,
    #: people's rows): keyed by their uids, as every sensor's
    uniforms: Callable[..., np.ndarray]
    words: Callable[..., np.ndarray]
    source_code: int


class LandlordCamera:
    """The camera, its owner's sanctions, the tenants' complaint and the regulator."""

    def __init__(self, params: LandlordParams, reads: CameraReads) -> None:
        self.p = params
        self.reads = reads

    def setup(self, world) -> None:
        p = self.p
        sc = world.scenario
        R = world.n_regions
        self.venue_ok = np.zeros(256, dtype=bool)
        for v in p.venues:
            self.venue_ok[sc.venues[v].code] = True
        self.region_ok = np.ones(R, dtype=bool)
        if p.regions != "all":
            self.region_ok[:] = False
            self.region_ok[list(p.regions)] = True
        cat = world.catalogue
        self.sanctioned = np.zeros(256, dtype=bool)
        self.sanctioned[[cat.code[cat.position(a)] for a in p.sanctioned_acts]] = True
        self.entry = np.zeros(256, dtype=bool)
        self.entry[[cat.code[cat.position(a)] for a in p.entry_acts]] = True
        self.guest = np.zeros(256, dtype=bool)
        self.guest[[cat.code[cat.position(a)] for a in p.guest_acts]] = True
        setup = world.stream("setup")
        household = world.array("people.household").astype(np.int64)
        region = world.array("people.region")
        u = setup.uniform(0, setup_slot(P_TENANCY, p.code), household)
        tenant = world.array("people.tenant")
        tenant[:] = (u < p.tenant_share) & self.region_ok[region]
        self.tenants = np.flatnonzero(tenant)
        self.n_tenants = int(self.tenants.size)
        if p.consent_required:
            c = setup.uniform(0, setup_slot(P_CONSENT, p.code), world.uids)
            self.enrolled = tenant & (c < p.consent_share)
        else:
            self.enrolled = tenant.copy()
        self.gallery = int(self.enrolled.sum())
        #: the landlord's tenants over the nation — on a partition handed in each day
        #: with the gallery (:meth:`receive_national`), as are the tenants who joined the
        #: complaint (:meth:`complaint`)
        self.partitioned = world.partitioned
        self.all_tenants = self.n_tenants
        # tenants by cell, for misidentification among enrolled tenants of the same cell
        cell = world.array("people.cell").astype(np.int64)
        enrolled = np.flatnonzero(self.enrolled)
        order = np.argsort(cell[enrolled], kind="stable")
        self.tenant_by_cell = enrolled[order]
        counts = np.bincount(cell[enrolled], minlength=len(world.group_names) * R)
        self.cell_off = np.zeros(counts.size + 1, dtype=np.int64)
        np.cumsum(counts, out=self.cell_off[1:])
        cells = world.array("people.cell")
        n_cells = len(world.group_names) * R
        self.tenant_cells = np.bincount(cells[self.tenants], minlength=n_cells).astype(float)
        self._join_times(world, None)

    def _join_times(self, world, approval: np.ndarray | None) -> None:
        """When each tenant would join the complaint unprompted (exponential, by
        inversion); with ``approval`` the hazard is scaled by the approval link."""
        p = self.p
        setup = world.stream("setup")
        cday = world.array("people.complaint_day")
        total = world.scenario.time.burn_in + world.scenario.time.days
        if self.n_tenants:
            h = p.join_rate * world.array("people.privacy_concern")[self.tenants].astype(
                np.float64)
            if approval is not None:
                a = np.clip(approval.astype(np.float64), 1e-6, 1 - 1e-6)
                la = np.log(a / (1 - a))
                h = h * np.exp(-p.approval_weight * (la[self.tenants] - la.mean()))
            uj = setup.uniform(0, setup_slot(P_JOIN_TIME, p.code), world.uid_of(self.tenants))
            with np.errstate(divide="ignore"):
                gap = np.where(h > 0, np.floor(np.log(uj) / np.log1p(-np.minimum(h, 1 - 1e-12))),
                               np.inf)
            cday[self.tenants] = np.where(gap < NEVER - 1, gap, NEVER).astype(np.uint16)
        hist = np.bincount(cday[self.tenants][cday[self.tenants] < total], minlength=total + 1)
        world.state["landlord"] = {"hist": hist.astype(np.int64), "joined": 0, "joined_all": 0,
                                   "filed": -1,
                                   "decide": -1, "removed": -1, "rejected": False}

    def active(self, world) -> bool:
        return world.state["landlord"]["removed"] < 0

    def step(self, world, day: int, acts, held: np.ndarray, recorded: np.ndarray,
             obs_parts: list, truth_parts: list) -> None:
        c = world.counters
        if day == 0 and self.p.approval_weight > 0:
            # approval is set by the attitudes module's setup, after this one's: redraw
            # the join times on the same uniforms, scaled by the approval link
            approval = world.optional("people.approval")
            if approval is not None:
                self._join_times(world, approval)
        ls = world.state["landlord"]
        ls["joined"] += int(ls["hist"][day]) if day < ls["hist"].size else 0
        c.add_vector("tenant_days", self.tenant_cells)
        if ls["removed"] < 0:
            c.add_vector("tenant_days_watched", self.tenant_cells)
            if len(acts):
                self._capture(world, day, acts, held, recorded, obs_parts, truth_parts)
        if not self.partitioned:
            self.complaint(world, day, ls["joined"])

    def national(self) -> dict[str, int]:
        """On a partition, at the day's start: its part of the nation's enrolled tenants
        (the gallery a face is searched in) and tenants."""
        return {"landlord.enrolled": int(self.enrolled.sum()),
                "landlord.tenants": self.n_tenants}

    def receive_national(self, figures: dict[str, int]) -> None:
        """The nation's enrolled tenants and tenants (:meth:`national`, summed)."""
        self.gallery = int(figures["landlord.enrolled"])
        self.all_tenants = int(figures["landlord.tenants"])

    def joined(self, world) -> int:
        """On a partition, after the day's step: its tenants who joined the complaint."""
        return int(world.state["landlord"]["joined"])

    def _capture(self, world, day, acts, held, recorded, obs_parts, truth_parts) -> None:
        p, sv = self.p, self.reads
        c = world.counters
        cell = world.array("people.cell")
        region = world.array("people.region")
        tenant = world.array("people.tenant")
        actor = acts["actor"].astype(np.int64)
        codes = acts["act"]
        rows = np.flatnonzero(self.venue_ok[acts["venue"]] & self.region_ok[region[actor]]
                              & ~held)
        if rows.size == 0:
            return
        a = actor[rows]
        is_tenant = tenant[a]
        if p.consent_required:
            prob = np.where(self.enrolled[a], p.coverage, 0.0)  # no guest, no refuser
        else:
            guest = self.guest[codes[rows]] * (p.coverage * p.tenant_share)
            prob = np.where(is_tenant, p.coverage, guest)
        u = sv.uniforms(world, "landlord_capture", day, p.code, codes[rows], a)
        keep = u < prob
        rows, a, is_tenant = rows[keep], a[keep], is_tenant[keep]
        if rows.size == 0:
            return
        recorded[rows] = True
        sens = sv.sensitivity[acts["venue"][rows]]
        c.add_cells("exposure", cell[a], p.parties * sens)
        c.add_cells("guests_captured", cell[a[~is_tenant]])
        subject = np.where(is_tenant, a, -1)  # -1: an unnamed face
        if p.identification == "face":
            enrolled = self.enrolled[a]
            u1 = sv.uniforms(world, "identify", day, p.code, codes[rows], a)
            fmr, fnmr = self.reads.face_rates(world, a)
            missed = enrolled & (u1 < fnmr)
            denied = missed & self.entry[codes[rows]]
            c.add_cells("tenant_entry_denied", cell[a[denied]])
            subject[missed] = -1
            q = false_alarm_probability(fmr, self.gallery)
            u2 = sv.uniforms(world, "misidentify", day, p.code, codes[rows], a)
            wrong = ~missed & (u2 < q)
            if wrong.any():
                other = self._other_tenant(world, day, codes[rows][wrong], a[wrong])
                subject[wrong] = np.where(other >= 0, other, subject[wrong])
        named = subject >= 0
        fine = named & self.sanctioned[codes[rows]]
        if fine.any():
            fined = subject[fine]
            c.add_cells("private_sanctions", cell[fined])
            c.add_cells("private_sanctions_false", cell[fined[fined != a[fine]]])
            c.add_cells("private_fines", cell[fined], np.full(fined.size, p.fine))
            self._join_after_sanction(world, day, fined, codes[rows][fine])
        if "police" in p.receives and named.any():
            r, s = rows[named], subject[named]
            cat = world.catalogue
            obs_parts.append(Table.from_columns(
                OBSERVATION_LAYOUT, ref=unfiled(r.size), subject=s, act=codes[r],
                source=np.full(r.size, sv.source_code), sensor=np.full(r.size, p.code)))
            truth_parts.append(Table.from_columns(
                OBSERVATION_TRUTH_LAYOUT, act_ref=pack_ref(day, r), true_actor=actor[r],
                true_act=codes[r],
                erroneous=s != actor[r],
                lawful=cat.lawful_ref[cat.position_of_code[codes[r]]]))

    def _other_tenant(self, world, day, codes, actor) -> np.ndarray:
        """A wrongly named enrolled tenant of the actor's cell (−1 if there is none)."""
        out = np.full(actor.size, -1, dtype=np.int64)
        if self.tenant_by_cell.size == 0:
            return out
        cell = world.array("people.cell").astype(np.int64)[actor]
        lo, size = self.cell_off[cell], self.cell_off[cell + 1] - self.cell_off[cell]
        w = self.reads.words(world, "wrong_person", day, self.p.code, codes, actor)
        k = ((w.astype(np.uint64) * size.astype(np.uint64)) >> np.uint64(32)).astype(np.int64)
        has = size > 0
        out[has] = self.tenant_by_cell[lo[has] + k[has]]
        return out

    def _join_after_sanction(self, world, day, fined, codes) -> None:
        p = self.p
        ls = world.state["landlord"]
        u = self.reads.uniforms(world, "landlord_join", day, p.code, codes, fined)
        who = unique(fined[u < p.join_if_sanctioned])
        cday = world.array("people.complaint_day")
        who = who[cday[who] > day]
        if who.size == 0:
            return
        old = cday[who].astype(np.int64)
        inside = old < ls["hist"].size
        np.subtract.at(ls["hist"], old[inside], 1)
        cday[who] = day
        ls["joined"] += int(who.size)
        world.counters.add_cells("tenants_joined_after_sanction",
                                 world.array("people.cell")[who])

    def complaint(self, world, day: int, joined: int) -> None:
        """The tenants complain once ``joined`` (the nation's tenants who joined) reaches
        the threshold; the regulator decides ``regulator_days`` later (on a partition
        called after the day's exchange, every partition alike)."""
        p = self.p
        ls = world.state["landlord"]
        ls["joined_all"] = joined
        if self.all_tenants == 0:
            return
        if ls["filed"] < 0 and joined >= math.ceil(p.threshold * self.all_tenants - 1e-9):
            ls["filed"] = day
            ls["decide"] = day + p.regulator_days
        if ls["filed"] >= 0 and ls["removed"] < 0 and not ls["rejected"] and day >= ls["decide"]:
            u = world.stream("setup").uniform(day, setup_slot(P_REGULATOR, p.code),
                                              np.zeros(1, np.int64))[0]
            if u < p.removal_probability:
                ls["removed"] = day
            else:
                ls["rejected"] = True
