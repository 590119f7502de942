"""Surveillance: sensors by venue and region, face recognition, informants, checkpoints,
home devices and the landlord's camera (sensing role).

This is where acts (truth) become observations, as in ``sources.py``, errors included.
Equations and parameters: ``docs/surveillance.md``.

* **Sensors** (``sensors``, a name-keyed catalogue) watch ``venues`` in ``regions``: an
  act whose *venue column* is watched (so a displaced act is missed) is captured with
  probability ``coverage`` (this period's deployed coverage of its venue and region).
  Identification is by ``document`` (the subject is the actor, or with ``misattribution``
  another person of the actor's group and region), by ``face`` (not identified with
  FNMR_i; misidentified as another person of the same group and region with
  ``1 − (1 − FMR_i)^gallery``), or by ``informant`` (a neighbour reports what they see,
  more often with a ``reward``: coverage × (1 + reward_response · reward); and files
  false reports at ``false_report_rate`` per resident-day, scaled the same way). With
  ``approval_weight`` w > 0 both are also multiplied by ``exp(w·(logit ā_r − logit
  approval_reference))``, ā_r the region's mean approval of the system yesterday
  (legitimacy → reporting; ``regions.approval``, owned by attitudes).
* **Who receives the data**: ``owner`` (state, household, landlord, vendor) and
  ``receives`` (police, vendor, landlord). Data reach the apparatus — become observations
  and records — when the owner is the state or the police receive them; otherwise the
  capture stays private (it counts in privacy exposure, not in the dossier).
* **Checkpoints** (``checkpoints``): movement acts are screened against the watchlist
  (``checkpoints.py``); an alarm blocks the trip and may detain the person.
* **Detention**: a detained person is not at any venue: no sensor or checkpoint sees
  their acts; their expression and movement acts count as blocked.
* **Deployment**: ``fixed``, or ``feedback``: every ``period_days`` each sensor's
  coverage moves (by ``rate``) towards the venues and regions where it made more records,
  within a fixed budget (population-weighted total coverage).
* **The landlord's camera** (``landlord``): ``landlord.py``.

``consequences`` publishes the watching: aware people perceive each act's chance of
being captured by a sensor whose data reach someone (chilling of expression, deterrence
of violations). ``expression_venues_watched: false`` switches off every sensor at venues
where expression happens — the counterfactual twin of ``scslab compare --twin``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import numba as nb
import numpy as np
from pydantic import Field

from scslab.core.acts import ActCatalogue
from scslab.core.layouts import (
    ACT_ELSEWHERE,
    DETENTION_LAYOUT,
    OBSERVATION_LAYOUT,
    OBSERVATION_TRUTH_LAYOUT,
    Table,
    code_table,
    pack_ref,
    unfiled,
)
from scslab.core.metrics import FinalMetricDef
from scslab.core.module import (
    ArraySpec,
    CauseSpec,
    CounterSpec,
    Module,
    Phase,
    Role,
    RunsRegions,
)
from scslab.core.population import cut_refusal
from scslab.core.scenario_schema import ModuleParams, Strict
from scslab.modules.sensing.face_recognition import (
    FaceParams,
    check_face,
    false_alarm_probability,
    lookalike_multiplier,
    person_rates,
)
from scslab.modules.sensing.landlord import (
    CameraReads,
    LandlordCamera,
    LandlordParams,
    check_landlord,
)
from scslab.modules.sensing.sensor_draws import (
    REGION_LAYOUT,
    SENSOR_LAYOUT,
    SETUP_LAYOUT,
    sensor_uniforms,
    sensor_words,
)
from scslab.modules.sensing.sensor_draws import setup_slot as _setup_slot
from scslab.modules.sensing.watchlist import CheckpointSpec
from scslab.numerics.logistic import logit
from scslab.numerics.rng import StreamSpec

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
NEVER = 0xFFFF

P_LOOKALIKE, P_CONSENT = 1, 2

#: Venues that are public spaces (EU AI Act Art. 5(1)(h)), where present in the scenario.
PUBLIC_VENUES = ("road", "street", "market", "public_square", "station", "airport",
                 "religious_site", "community", "hospital", "government_office")


class SensorSpec(Strict):
    """A sensor network: what it sees, where, how it identifies, who gets the data."""

    code: Annotated[int, Field(ge=1, le=255)]
    venues: list[str]
    regions: list[Annotated[int, Field(ge=0)]] | Literal["all"] = "all"
    coverage: Prob
    #: starting coverage by region (region → coverage, or one value per region); regions
    #: not named keep ``coverage``
    coverage_by_region: dict[int, Prob] | list[Prob] | None = None
    identification: Literal["face", "document", "informant"] = "document"
    acts: list[str] | None = None  # only these acts (default: every act at the venues)
    gallery: Annotated[int, Field(ge=0)] = 10_000  # face: entries searched per capture
    misattribution: Prob = 0.0  # document / informant: names another person
    false_report_rate: NonNeg = 0.0  # informant: false reports per resident-day
    reward: NonNeg = 0.0  # informant: reward per report (money)
    reward_response: NonNeg = 1.0  # informant: relative rise in reports per money unit
    #: informant: legitimacy → reporting, logit approval's weight on reports (assumption;
    #: direction Tyler 2006) and the regional approval at which reports are as ``coverage``
    approval_weight: NonNeg = 0.0
    approval_reference: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.8
    owner: Literal["state", "household", "landlord", "vendor"] = "state"
    receives: list[Literal["police", "vendor", "landlord"]] = Field(default_factory=list)
    real_time: bool = True  # identifies as it captures (not after the fact)
    consent: bool = False  # identifies only people who gave explicit consent
    consent_share: Prob = 1.0  # who consents, when ``consent``
    exception: bool = False  # a narrow law-enforcement exception (EU AI Act Art. 5(2))

    @property
    def to_apparatus(self) -> bool:
        return self.owner == "state" or "police" in self.receives

    @property
    def parties(self) -> int:
        """Parties with access to a capture: apparatus, landlord, vendor (0 or 1 each)."""
        return (int(self.to_apparatus) + int(self.owner == "landlord" or "landlord" in self.receives)
                + int(self.owner == "vendor" or "vendor" in self.receives))

    def reach_by_region(self, n_regions: int) -> np.ndarray:
        """Starting capture chance in each region: ``coverage``, or ``coverage_by_region``
        where given; informants report more when paid (× (1 + reward_response·reward))."""
        cov = np.full(n_regions, self.coverage)
        given = self.coverage_by_region
        if isinstance(given, list):
            cov[:] = given
        elif given:
            for r, c in given.items():
                cov[r] = c
        if self.identification == "informant":
            cov = np.minimum(1.0, cov * (1.0 + self.reward_response * self.reward))
        return cov


class DeploymentParams(Strict):
    mode: Literal["fixed", "feedback"] = "fixed"
    period_days: Annotated[int, Field(ge=1)] = 30
    rate: Prob = 0.5  # share of the way towards the records' distribution per period


class SurveillanceParams(ModuleParams):
    enabled: bool = False
    sensors: dict[str, SensorSpec] = Field(default_factory=dict)
    checkpoints: dict[str, CheckpointSpec] = Field(default_factory=dict)
    face: FaceParams = Field(default_factory=FaceParams)
    deployment: DeploymentParams = Field(default_factory=DeploymentParams)
    landlord: LandlordParams = Field(default_factory=LandlordParams)
    expression_venues_watched: bool = True  # false: the twin without expression surveillance
    source_code: Annotated[int, Field(ge=0, le=31)] = 29  # source column of observations
    regime: Literal["none", "eu_ai_act"] = "none"
    public_venues: list[str] = Field(default_factory=lambda: list(PUBLIC_VENUES))


def _params(scenario) -> SurveillanceParams:
    return scenario.module_params("surveillance", SurveillanceParams)


def region_shares(scenario) -> np.ndarray:
    """Expected population share of each region (groups' shares × region weights)."""
    pop = scenario.population
    out = np.zeros(pop.regions)
    for g in pop.groups.values():
        w = np.asarray(g.region_weights or [1.0] * pop.regions, dtype=np.float64)
        out += g.share * w / w.sum()
    return out


def expression_venue_codes(scenario) -> set[int]:
    """Venues where some lawful expression act happens."""
    return {scenario.venues[a.venue].code for a in scenario.acts.values()
            if a.act_class == "expression"}


def _regions_mask(regions, n: int) -> np.ndarray:
    mask = np.ones(n, dtype=bool)
    if regions != "all":
        mask[:] = False
        mask[list(regions)] = True
    return mask


def check_coverage_by_region(spec: SensorSpec, where: str, n_regions: int) -> None:
    """Regions named in ``coverage_by_region`` exist and are watched by the sensor."""
    given = spec.coverage_by_region
    if given is None:
        return
    if isinstance(given, list):
        if len(given) != n_regions:
            raise ValueError(f"{where}: {len(given)} values for {n_regions} regions")
        return
    watched = _regions_mask(spec.regions, n_regions)
    for r in given:
        if not 0 <= r < n_regions:
            raise ValueError(f"{where}: region {r} out of range (0..{n_regions - 1})")
        if not watched[r]:
            raise ValueError(f"{where}: region {r} is not among the sensor's regions")


def water_fill(x: np.ndarray, weight: np.ndarray, budget: float) -> tuple[np.ndarray, float]:
    """Coverages ``x`` (≥ 0) capped at 1 with the weighted total ``Σ weight·x`` brought to
    ``budget``: the excess of capped cells goes to the cells below 1 in proportion to
    their coverage (a common factor λ with ``Σ w·min(1, λ·x) = budget``; equally, as a
    common level, where those cells are all at 0). Returns the coverages and the budget
    lost because every cell is full (0 unless ``budget > Σ weight``)."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    room = float(w.sum())
    if budget >= room:
        return np.ones_like(x), budget - room
    full = x >= 1.0
    for _ in range(x.size + 1):  # each pass fills at least one more cell, or ends
        left = budget - float(w[full].sum())
        free = ~full
        mass = float((w[free] * x[free]).sum())
        if mass > 0.0:
            new = np.where(full, 1.0, x * (left / mass))
        elif w[free].sum() > 0.0:  # nothing to scale: raise the empty cells to a level
            new = np.where(full, 1.0, left / float(w[free].sum()))
        else:  # only cells without weight are left: nothing to move
            return np.where(full, 1.0, x), 0.0
        over = free & (new >= 1.0)
        if not over.any():
            return new, 0.0
        full |= over
    return np.where(full, 1.0, new), 0.0


def sensor_act_mask(spec: SensorSpec, scenario, catalogue: ActCatalogue) -> np.ndarray:
    """Per act code: the sensor identifies this act when it happens at a watched venue."""
    ok = np.zeros(256, dtype=bool)
    names = spec.acts if spec.acts is not None else list(scenario.acts)
    for a in names:
        ok[scenario.acts[a].code] = True
    return ok


@nb.njit(cache=True)
def _exposed(cov, where, held, act_ok, codes, consented, actor):  # pragma: no cover
    """Rows of today's acts a sensor may see (actor not detained, an act it records, a
    covered venue and region, consent where asked: ``consented`` empty when not) and
    their coverage — one pass instead of a gather, four masks and a scan per sensor."""
    n = where.shape[0]
    rows = np.empty(n, dtype=np.int64)
    p = np.empty(n, dtype=np.float64)
    m = 0
    for j in range(n):
        if held[j] or not act_ok[codes[j]]:
            continue
        q = cov[where[j]]
        if not q > 0:
            continue
        if consented.shape[0] and not consented[actor[j]]:
            continue
        rows[m] = j
        p[m] = q
        m += 1
    return rows[:m], p[:m]


# --------------------------------------------------------------------------- declarations
# twin transform and explain causes, declared on the module class and collected by compare
# and explain (nothing is registered at import time)

def _unwatch(scenario) -> list[str]:
    """The twin without expression-venue surveillance (``scslab compare --twin``)."""
    if not scenario.modules.get("surveillance", {}).get("enabled", False):
        return []
    return ["modules.surveillance.expression_venues_watched=false"]


def _equal_face_error(scenario, a: str, b: str) -> list[str]:
    """Group A gets group B's face-recognition error multipliers (deployed algorithm)."""
    params = _params(scenario)
    if not params.enabled:
        return []
    face = params.face
    o = face.origins[face.algorithm]
    base = f"modules.surveillance.face.origins.{face.algorithm}"
    return [f"{base}.fmr.{a}={o.fmr.get(b, 1.0)!r}", f"{base}.fnmr.{a}={o.fnmr.get(b, 1.0)!r}"]


def _equal_watchlisting(scenario, a: str, b: str) -> list[str]:
    """Group A is listed by design as often as group B."""
    wl = scenario.modules.get("watchlist", {})
    if not wl.get("enabled", False):
        return []
    return [f"modules.watchlist.groups.{a}={float(wl.get('groups', {}).get(b, 0.0))!r}"]


class Surveillance(RunsRegions, Module):
    name = "surveillance"
    role = Role.SENSING
    phase = Phase.SENSE
    Params = SurveillanceParams
    doc = "Sensors, face recognition, informants, checkpoints, home devices, landlord."
    twin_transforms = (_unwatch,)
    causes = (
        CauseSpec("face_error_rates", "face recognition: group A gets group B's false "
                  "match and non-match multipliers", _equal_face_error),
        CauseSpec("watchlisting", "watchlists: group A is listed by design as often as "
                  "group B", _equal_watchlisting),
    )
    owns: ClassVar = (
        ArraySpec("people.detained_until", "day_u16", "people", False,
                  "held while day < this (0: never detained)"),
        ArraySpec("people.false_alarms", "count", "people", True,
                  "false alarms on this person since the burn-in"),
        ArraySpec("people.tenant", "flag", "people", False, "lives in the landlord's building"),
        ArraySpec("people.complaint_day", "day_u16", "people", False,
                  "day the tenant joins the complaint", fill=NEVER),
        ArraySpec("regions.watch_factor", "ratio", "regions×acts", False,
                  "chance an act escapes the sensors now over the chance at day 0 (1: as "
                  "deployed at day 0; the informed perceive redeployment through it)",
                  fill=1.0),
    )
    reads = ("acts", "observations", "observation_truth", "people.cell", "people.group", "people.sex",
             "people.region", "people.household", "people.privacy_concern",
             "people.watchlisted@prev?", "people.watchlist_record@prev?",
             "people.approval@prev?", "regions.approval@prev?",
             "counters.blocked_expression?", "counters.blocked_trips_detention?")
    appends = ("observations", "observation_truth", "detentions")
    streams = (
        StreamSpec("observe", SENSOR_LAYOUT, "whether a sensor captures an act"),
        StreamSpec("identify", SENSOR_LAYOUT, "false non-match of a face"),
        StreamSpec("misidentify", SENSOR_LAYOUT, "false match / misattribution"),
        StreamSpec("wrong_person", SENSOR_LAYOUT, "whom a wrong identification names"),
        StreamSpec("screen", SENSOR_LAYOUT, "whether a checkpoint screens a trip"),
        StreamSpec("alarm", SENSOR_LAYOUT, "whether a screening raises an alarm"),
        StreamSpec("false_count", REGION_LAYOUT, "informants' false reports: count"),
        StreamSpec("false_subject", REGION_LAYOUT, "informants' false reports: subject"),
        StreamSpec("false_act", REGION_LAYOUT, "informants' false reports: act"),
        StreamSpec("landlord_capture", SENSOR_LAYOUT, "the landlord's camera captures"),
        StreamSpec("landlord_join", SENSOR_LAYOUT, "a fined tenant joins the complaint"),
        StreamSpec("setup", SETUP_LAYOUT, "look-alikes, consent, tenancy, regulator"),
    )
    #: draws keyed by the person's uid; a wrong identification or a false report names
    #: someone of the actor's region (whole regions); on a partition the feedback
    #: deployment's record counts and a checkpoint's national gallery (the watchlist's
    #: size) and the landlord's tenants are exchanged (``national``, ``surveillance``)
    partitionable = True
    counters = (
        CounterSpec("acts_all", "acts, by actor's cell"),
        CounterSpec("acts_recorded", "acts captured by a source or a sensor with any party"),
        CounterSpec("exposure", "records × parties with access × venue sensitivity", real=True),
        CounterSpec("sensor_records", "captures by sensors whose data reach the apparatus"),
        CounterSpec("private_captures", "captures kept outside the apparatus"),
        CounterSpec("coverage_person_days", "Σ person-days × mean sensor coverage of the "
                    "person's region", real=True),
        CounterSpec("screenings", "checkpoint screenings, by traveller's cell"),
        CounterSpec("screenings_unlisted", "screenings of people not on the watchlist"),
        CounterSpec("false_alarms", "alarms on people not on the watchlist"),
        CounterSpec("true_alarms", "alarms on people on the watchlist"),
        CounterSpec("blocked_movement", "trips blocked by an alarm or a detention"),
        CounterSpec("blocked_expression_detention", "expression acts prevented by detention"),
        CounterSpec("blocked_expression_all", "expression prevented by bans or detention"),
        CounterSpec("informant_false_reports", "informants' reports of acts that never happened"),
        CounterSpec("tenant_days", "tenant-days"),
        CounterSpec("tenant_days_watched", "tenant-days under the landlord's camera"),
        CounterSpec("guests_captured", "guests' visits captured without consent"),
        CounterSpec("tenant_entry_denied", "tenants turned away: face not recognised"),
        CounterSpec("private_sanctions", "landlord's fines (no appeal), by named tenant"),
        CounterSpec("private_sanctions_false", "landlord's fines naming the wrong tenant"),
        CounterSpec("private_fines", "money of the landlord's fines", real=True),
        CounterSpec("tenants_joined_after_sanction", "tenants who joined the complaint when "
                    "fined"),
    )

    # ------------------------------------------------------------------ declarations

    @classmethod
    def partition_problem(cls, params, scenario, split) -> str | None:
        if params.landlord.enabled and params.landlord.approval_weight > 0:
            return ("the landlord's approval link weighs tenants against the mean "
                    "approval of everyone (landlord.approval_weight > 0)")
        if float(scenario.modules.get("behaviour", {}).get("displacement", 0.0)) > 0:
            return ("a record routed from another partition does not carry the venue a "
                    "displaced act happened at (behaviour.displacement > 0)")
        return cut_refusal(split, "people.region", "a wrong identification or an "
                           "informant's false report names someone of the actor's region")

    @classmethod
    def check_params(cls, params, scenario):
        if not params.enabled:
            return params
        groups = list(scenario.population.groups)
        check_face(params.face, groups)
        R = scenario.population.regions
        codes: dict[int, str] = {}

        def code(name: str, c: int) -> None:
            if c in codes:
                raise ValueError(f"{name}.code: code {c} is also used by {codes[c]}")
            codes[c] = name

        for name, s in params.sensors.items():
            where = f"sensors.{name}"
            code(where, s.code)
            if not s.venues:
                raise ValueError(f"{where}.venues: a sensor watches at least one venue")
            for v in s.venues:
                if v not in scenario.venues:
                    raise ValueError(f"{where}.venues: unknown venue {v!r}")
            for a in s.acts or ():
                if a not in scenario.acts:
                    raise ValueError(f"{where}.acts: unknown act {a!r}")
            if s.regions != "all":
                for r in s.regions:
                    if r >= R:
                        raise ValueError(f"{where}.regions: region {r} out of range (0..{R - 1})")
            check_coverage_by_region(s, f"{where}.coverage_by_region", R)
            if s.identification != "informant" and (s.false_report_rate or s.reward
                                                    or s.approval_weight):
                raise ValueError(f"{where}.identification: false reports, rewards and the "
                                 "approval weight need identification 'informant'")
            if s.approval_weight and not scenario.modules.get("attitudes", {}).get(
                    "enabled", False):
                raise ValueError(f"{where}.approval_weight: reports move with approval only "
                                 "when the attitudes module is enabled")
        for name, cp in params.checkpoints.items():
            where = f"checkpoints.{name}"
            code(where, cp.code)
            for a in cp.acts:
                if a not in scenario.acts:
                    raise ValueError(f"{where}.acts: unknown act {a!r}")
            if cp.regions != "all":
                for r in cp.regions:
                    if r >= R:
                        raise ValueError(f"{where}.regions: region {r} out of range (0..{R - 1})")
        if params.landlord.enabled:
            code("landlord", params.landlord.code)
            check_landlord(params.landlord, scenario)
        if params.regime == "eu_ai_act":
            cls._check_eu_ai_act(params, scenario)
        return params

    @staticmethod
    def _check_eu_ai_act(params, scenario) -> None:
        """The AI Act's prohibitions (Art. 5) as one-line errors naming the field."""
        public = set(params.public_venues)
        for name, s in params.sensors.items():
            if s.identification != "face":
                continue
            if (s.to_apparatus and s.real_time and not s.exception
                    and public.intersection(s.venues)):
                raise ValueError(
                    f"sensors.{name}.identification: real-time remote biometric identification "
                    "in public spaces for law enforcement is prohibited under regime eu_ai_act "
                    "(Art. 5(1)(h)) outside narrow exceptions")
            if s.owner != "state" and not s.consent:
                raise ValueError(f"sensors.{name}.consent: private face recognition needs "
                                 "explicit consent under regime eu_ai_act")
        for name, cp in params.checkpoints.items():
            if cp.identification == "face" and not cp.exception:
                raise ValueError(
                    f"checkpoints.{name}.identification: real-time remote biometric "
                    "identification in public spaces is prohibited under regime eu_ai_act "
                    "(Art. 5(1)(h))")
        ll = params.landlord
        if ll.enabled and ll.identification == "face" and not ll.consent_required:
            raise ValueError("landlord.consent_required: private face recognition needs "
                             "explicit consent under regime eu_ai_act")
        sanctions = scenario.modules.get("sanctions", {})
        if sanctions.get("enabled", False):
            users: dict[str, set[str]] = {}
            for agency, row in (sanctions.get("matrix") or {}).items():
                for lists in row.values():
                    for lst in lists:
                        users.setdefault(lst, set()).add(agency)
            for lst, agencies in users.items():
                if len(agencies) > 1:
                    raise ValueError(
                        f"regime: list {lst!r} is sanctioned by {len(agencies)} agencies "
                        f"({', '.join(sorted(agencies))}): detrimental treatment in unrelated "
                        "contexts is prohibited under eu_ai_act (Art. 5(1)(c))")

    @classmethod
    def consequences(cls, scenario, catalogue):
        """What aware people perceive: the chance an act is captured by a sensor whose
        data reach someone — in each region (``detection_by_region``: a camera watches
        the region it is in) and nationally (``detection``: weighted by the population
        share of covered regions) — and the landlord's fine as a sanction of house-rule
        breaches."""
        p = _params(scenario)
        if not p.enabled:
            return None
        share = region_shares(scenario)
        R = scenario.population.regions
        expr = expression_venue_codes(scenario)
        n = len(catalogue)
        miss = np.ones(n)
        miss_region = np.ones((R, n))
        sanction = np.zeros(n)

        def watch(acts_mask: np.ndarray, local, regions_mask: np.ndarray) -> None:
            """``local``: the capture chance in a watched region (one, or one per region)."""
            local = np.broadcast_to(np.asarray(local, dtype=np.float64), (R,))
            national = (local * share)[regions_mask].sum()
            miss[acts_mask] *= 1.0 - national
            miss_region[np.ix_(regions_mask, acts_mask)] *= 1.0 - local[regions_mask, None]

        for s in p.sensors.values():
            if s.parties == 0:
                continue
            venues = {scenario.venues[v].code for v in s.venues}
            if not p.expression_venues_watched:
                venues -= expr
            ok = sensor_act_mask(s, scenario, catalogue)
            local = s.reach_by_region(R) * (s.consent_share if s.consent else 1.0)
            acts = np.array([catalogue.venue[i] in venues and ok[catalogue.code[i]]
                             for i in range(n)], dtype=bool)
            watch(acts, local, _regions_mask(s.regions, R))
        for cp in p.checkpoints.values():
            acts = np.zeros(n, dtype=bool)
            for a in cp.acts:
                acts[catalogue.position(a)] = True
            watch(acts, cp.coverage, _regions_mask(cp.regions, R))
        ll = p.landlord
        if ll.enabled:
            venues = {scenario.venues[v].code for v in ll.venues}
            if not p.expression_venues_watched:
                venues -= expr
            local = ll.coverage * ll.tenant_share * (ll.consent_share if ll.consent_required
                                                     else 1.0)
            acts = np.array([catalogue.venue[i] in venues for i in range(n)], dtype=bool)
            watch(acts, local, _regions_mask(ll.regions, R))
            for a in ll.sanctioned_acts:
                sanction[catalogue.position(a)] += ll.fine
        return {"detection": 1.0 - miss, "detection_by_region": 1.0 - miss_region,
                "sanction": sanction}

    # ------------------------------------------------------------------ set-up

    def setup(self, world) -> None:
        sc = world.scenario
        p = self.params
        n = world.counts["people"]
        R = world.n_regions
        self.R = R
        self.burn_in = sc.time.burn_in
        cat = world.catalogue
        cell = world.array("people.cell").astype(np.int64)
        self.group_names = world.group_names
        n_cells = len(self.group_names) * R
        self.cell_sizes = np.bincount(cell, minlength=n_cells).astype(np.float64)
        self.region_sizes = world.region_sizes()
        #: on a partition: the nation's watchlist size (a checkpoint's gallery), handed
        #: in at the day's start (``receive_national_counts``)
        self.national_watchlist_size: int | None = None
        #: on a partition with feedback deployment or the landlord: the redeployment and
        #: the tenants' complaint wait for every partition's figures of the day
        #: (``receive_day_figures``)
        self.deferred = world.partitioned and (p.deployment.mode == "feedback"
                                               or p.landlord.enabled)
        #: on a partition: whether today's national counts were handed in and whether
        #: the day's figures still wait for the exchange (a skipped exchange stops the
        #: run instead of running on local counts)
        self.national_counts_handed = False
        self.awaiting_day_figures = False
        # people by cell and by region: whom a wrong identification or a false report names
        self.cell_order = np.argsort(cell, kind="stable").astype(np.int32)
        self.cell_off = np.zeros(n_cells + 1, dtype=np.int64)
        np.cumsum(self.cell_sizes.astype(np.int64), out=self.cell_off[1:])
        self.rank = np.empty(n, dtype=np.int32)  # a position within a cell (< n)
        self.rank[self.cell_order] = np.arange(n) - self.cell_off[cell[self.cell_order]]
        r_off, r_members = world.index("people.region", world.n_regions)
        self.region_members = [r_members[r_off[r]:r_off[r + 1]] for r in range(R)]
        # venue sensitivity and the venue where each act usually happens
        self.sensitivity = np.ones(256)
        for v in sc.venues.values():
            self.sensitivity[v.code] = v.sensitivity
        self.act_venue = np.zeros(256, dtype=np.int64)
        self.act_venue[cat.code] = cat.venue
        self.is_expr = code_table(cat.codes_of_class("expression"))
        self.is_move = code_table(cat.codes_of_class("movement"))
        # face error per person: recomputed for the people seen (face_rates), not stored
        self.face = p.face
        setup = world.stream("setup")
        # sensors compiled
        expr = expression_venue_codes(sc)
        self.sensors = []
        self.no_consent = np.zeros(0, dtype=bool)
        st = world.state
        st["cov"], st["counts"] = {}, {}
        for name, s in sorted(p.sensors.items(), key=lambda kv: kv[1].code):
            allowed = np.zeros((256, R), dtype=bool)
            for v in s.venues:
                vc = sc.venues[v].code
                if p.expression_venues_watched or vc not in expr:
                    allowed[vc] = _regions_mask(s.regions, R)
            consented = None
            if s.consent:
                u = setup.uniform(0, SETUP_LAYOUT.pack(purpose=P_CONSENT, sensor=s.code),
                                  world.uids)
                consented = u < s.consent_share
            codes = np.array(sorted(sc.acts[a].code for a in (s.acts or sc.acts)
                                    if sc.venues[sc.acts[a].venue].code in
                                    {sc.venues[v].code for v in s.venues}), dtype=np.int64)
            self.sensors.append({"name": name, "spec": s, "allowed": allowed,
                                 "venues": allowed.any(axis=1),
                                 "act_ok": sensor_act_mask(s, sc, cat), "consented": consented,
                                 "report_codes": codes})
            st["cov"][s.code] = np.where(allowed, s.reach_by_region(R)[None, :], 0.0)
            st["counts"][s.code] = np.zeros((256, R))
        self.checkpoints = []
        for name, cp in sorted(p.checkpoints.items(), key=lambda kv: kv[1].code):
            ok = np.zeros(256, dtype=bool)
            ok[[sc.acts[a].code for a in cp.acts]] = True
            self.checkpoints.append({"name": name, "spec": cp, "act_ok": ok,
                                     "region_ok": _regions_mask(cp.regions, R)})
        self.landlord = (LandlordCamera(p.landlord, CameraReads(
            sensitivity=self.sensitivity, face_rates=self.face_rates,
            uniforms=self.uniforms, words=self.words,
            source_code=p.source_code)) if p.landlord.enabled else None)
        if self.landlord is not None:
            self.landlord.setup(world)
        self.act_code = cat.code.astype(np.int64)
        self.miss_at_start = self._sensor_miss(st["cov"])

    # ------------------------------------------------------------------ draws

    setup_slot = staticmethod(_setup_slot)

    @staticmethod
    def uniforms(world, stream: str, day: int, sensor: int, codes: np.ndarray,
                 rows: np.ndarray) -> np.ndarray:
        """:func:`sensor_uniforms` of these people, keyed by their uids."""
        return sensor_uniforms(world, stream, day, sensor, codes, world.uid_of(rows))

    @staticmethod
    def words(world, stream: str, day: int, sensor: int, codes: np.ndarray,
              rows: np.ndarray) -> np.ndarray:
        """:func:`sensor_words` of these people, keyed by their uids."""
        return sensor_words(world, stream, day, sensor, codes, world.uid_of(rows))

    @property
    def needs_gallery(self) -> bool:
        """Whether a checkpoint searches the whole watchlist (its size a national figure
        on a partition)."""
        return any(cp["spec"].identification == "face" and cp["spec"].gallery is None
                   for cp in self.checkpoints)

    @property
    def counts_nationally(self) -> bool:
        """Whether, on a partition, a day starts with national counts handed in (the
        watchlist's size, the landlord's tenants)."""
        return self.needs_gallery or self.landlord is not None

    def national_counts(self, world) -> dict[str, int]:
        """On a partition, at the day's start: its part of the national counts — people
        on the watchlist (yesterday's), the landlord's enrolled tenants and tenants."""
        out: dict[str, int] = {}
        if self.needs_gallery:
            listed = world.optional("people.watchlisted")
            out["watchlist"] = int(np.count_nonzero(listed)) if listed is not None else 0
        if self.landlord is not None:
            out.update(self.landlord.national())
        return out

    def receive_national_counts(self, counts: dict[str, int]) -> None:
        """Every partition's counts, summed: the nation's watchlist size (a checkpoint's
        gallery) and the landlord's tenants."""
        self.national_counts_handed = True
        if "watchlist" in counts:
            self.national_watchlist_size = int(counts["watchlist"])
        if self.landlord is not None:
            self.landlord.receive_national(counts)

    def day_figures(self, world, day: int) -> dict[str, np.ndarray]:
        """On a partition, after this module's step: its part of the ``surveillance``
        exchange — on a feedback redeployment day each sensor's records by (venue, region)
        since the last one (0 in the others' regions); the landlord's tenants here who
        joined the complaint."""
        out: dict[str, np.ndarray] = {}
        dep = self.params.deployment
        if dep.mode == "feedback" and (day + 1) % dep.period_days == 0:
            out.update({str(code): counts for code, counts in world.state["counts"].items()})
        if self.landlord is not None:
            out["landlord.joined"] = np.array(self.landlord.joined(world))
        return out

    def receive_day_figures(self, world, day: int, figures: dict[str, np.ndarray]) -> None:
        """Every partition's figures, summed: today's redeployment and the tenants'
        complaint, as the whole run's."""
        self.awaiting_day_figures = False
        counts = {int(code): np.array(c, dtype=np.float64) for code, c in figures.items()
                  if code != "landlord.joined"}
        if counts:
            world.state["counts"].update(counts)
            self._redeploy(world, day)
        if self.landlord is not None:
            self.landlord.complaint(world, day, int(figures["landlord.joined"]))

    def face_rates(self, world, people: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-person FMR (look-alike multiplier included) and FNMR of ``people``, from
        their group, sex and keyed look-alike draw — two float64 arrays per person that
        are cheaper to recompute for the people a sensor sees than to hold for everyone."""
        look = lookalike_multiplier(world.stream("setup"), SETUP_LAYOUT.pack(purpose=P_LOOKALIKE),
                                    world.uid_of(people), self.face.lookalike_sigma)
        return person_rates(self.face, self.group_names, world.array("people.group")[people],
                            world.array("people.sex")[people], look)

    def other_in_cell(self, world, day: int, sensor: int, codes: np.ndarray,
                      actor: np.ndarray) -> np.ndarray:
        """Another person of the actor's group and region (the actor if alone there)."""
        cell = world.array("people.cell")[actor].astype(np.int64)
        size = self.cell_off[cell + 1] - self.cell_off[cell]
        w = self.words(world, "wrong_person", day, sensor, codes, actor).astype(np.uint64)
        k = ((w * np.maximum(size - 1, 0).astype(np.uint64)) >> np.uint64(32)).astype(np.int64)
        k = np.where(k >= self.rank[actor], k + 1, k)
        out = self.cell_order[np.minimum(self.cell_off[cell] + k, self.cell_order.size - 1)]
        return np.where(size > 1, out, actor)

    # ------------------------------------------------------------------ the day

    def step(self, world, day: int) -> None:
        if world.partitioned:
            self._check_exchanges()
        c = world.counters
        cell = world.array("people.cell")
        detained_until = world.array("people.detained_until")
        if day == self.burn_in:
            world.array("people.false_alarms")[:] = 0
        self._count_coverage(world)
        acts = world.events("acts")
        actor = acts["actor"].astype(np.int64)
        codes = acts["act"]
        held = detained_until[actor] > day
        c.add_cells("acts_all", cell[actor])
        recorded = np.zeros(len(acts), dtype=bool)
        self._source_observations(world, day, acts, recorded)
        if held.any():
            c.add_cells("blocked_expression_detention", cell[actor[held & self.is_expr[codes]]])
            c.add_cells("blocked_movement", cell[actor[held & self.is_move[codes]]])
        obs_parts: list[Table] = []
        truth_parts: list[Table] = []
        # (venue, region) of each act, as a flat index into a sensor's coverage table
        where = acts["venue"].astype(np.int64) * self.R + world.array("people.region")[actor]
        for s in self.sensors:
            self._sense(world, day, s, acts, held, recorded, obs_parts, truth_parts,
                        actor, where)
            if s["spec"].false_report_rate > 0:
                self._false_reports(world, day, s, obs_parts, truth_parts)
        for cp in self.checkpoints:
            self._screen(world, day, cp, acts, obs_parts, truth_parts, recorded)
        if self.landlord is not None:
            self.landlord.step(world, day, acts, held, recorded, obs_parts, truth_parts)
        c.add_cells("acts_recorded", cell[actor[recorded]])
        # the behaviour module blocks a detained person's acts (and counts them) before they
        # happen; what it counted today joins this module's totals
        if c.has("blocked_expression"):
            c.add_vector("blocked_expression_all", c.today("blocked_expression").sum(axis=0))
        if c.has("blocked_trips_detention"):
            c.add_vector("blocked_movement", c.today("blocked_trips_detention").sum(axis=0))
        if obs_parts:
            world.append("observations", Table.concat(OBSERVATION_LAYOUT, obs_parts))
            world.append("observation_truth", Table.concat(OBSERVATION_TRUTH_LAYOUT,
                                                           truth_parts))
        if self.deferred:
            self.awaiting_day_figures = True
        else:
            self._redeploy(world, day)

    def exchange_due(self) -> str | None:
        return ("figures were not exchanged (Surveillance.receive_day_figures)"
                if self.awaiting_day_figures else None)

    def _check_exchanges(self) -> None:
        """On a partition: stop unless today's national counts and yesterday's figures
        were exchanged (``national``, ``surveillance``)."""
        self.require_exchanged()
        if self.counts_nationally:
            if not self.national_counts_handed:
                raise RuntimeError("surveillance on a partition: today's national counts "
                                   "were not handed in (Surveillance.receive_national_counts)")
            self.national_counts_handed = False

    def _count_coverage(self, world) -> None:
        """coverage[region=K]: mean over sensors of their mean coverage over watched venues
        (kept in state until a redeployment changes the coverage)."""
        if not self.sensors:
            return
        st = world.state
        if st.get("cov_by_cell") is None:
            cov = st["cov"]
            per_region = np.zeros(self.R)
            for s in self.sensors:
                venues = s["venues"]  # allowed venues (a fixed mask)
                if venues.any():
                    per_region += cov[s["spec"].code][venues].mean(axis=0)
            per_region /= len(self.sensors)
            region_of_cell = np.arange(self.cell_sizes.size) % self.R
            st["cov_by_cell"] = self.cell_sizes * per_region[region_of_cell]
        world.counters.add_vector("coverage_person_days", st["cov_by_cell"])

    def _source_observations(self, world, day, acts, recorded) -> None:
        """Today's records from administrative sources: acts recorded, exposure (1 party)."""
        obs = world.events("observations")
        if not len(obs):
            return
        truth = world.events("observation_truth")  # row for row with obs
        ref = truth["act_ref"]
        real = (ref >= 0) & ((ref >> 32) == day)
        rows = (ref[real] & 0xFFFFFFFF).astype(np.int64)
        recorded[rows] = True
        venue = self.act_venue[obs["act"]]
        venue[real] = acts["venue"][rows]
        # routed from another partition (a person here named for an act there): the
        # venue of the act it saw — where it happens, acts not being displaced
        # (``partition_problem``)
        elsewhere = ref == ACT_ELSEWHERE
        venue[elsewhere] = self.act_venue[truth["true_act"][elsewhere]]
        cell = world.array("people.cell")
        here = obs["subject"] >= 0  # on a partition, records naming people elsewhere
        if not here.all():  # are counted where those live (routed there)
            obs, venue = obs.take(np.flatnonzero(here)), venue[here]
        world.counters.add_cells("exposure", cell[obs["subject"]], self.sensitivity[venue])

    def _sense(self, world, day, s, acts, held, recorded, obs_parts, truth_parts, actor,
               where) -> None:
        spec: SensorSpec = s["spec"]
        if not len(acts):
            return
        cell = world.array("people.cell")
        codes = acts["act"]
        venue = acts["venue"]
        consented = s["consented"] if s["consented"] is not None else self.no_consent
        rows, p = _exposed(world.state["cov"][spec.code].reshape(-1), where, held,
                           s["act_ok"], codes, consented, actor)
        if rows.size == 0:
            return
        if spec.approval_weight:
            region = world.array("people.region")[actor[rows]]
            p = np.minimum(1.0, p * self._approval_factor(world, spec)[region])
        u = self.uniforms(world, "observe", day, spec.code, codes[rows], actor[rows])
        rows = rows[u < p]
        if rows.size == 0:
            return
        a, k = actor[rows], codes[rows]
        subject = a.copy()
        keep = np.ones(rows.size, dtype=bool)
        if spec.identification == "face":
            fmr, fnmr = self.face_rates(world, a)
            keep = self.uniforms(world, "identify", day, spec.code, k, a) >= fnmr
            q = false_alarm_probability(fmr, spec.gallery)
        else:
            q = np.full(rows.size, spec.misattribution)
        wrong = keep & (self.uniforms(world, "misidentify", day, spec.code, k, a) < q)
        if wrong.any():
            subject[wrong] = self.other_in_cell(world, day, spec.code, k[wrong], a[wrong])
        rows, a, k, subject = rows[keep], a[keep], k[keep], subject[keep]
        if rows.size == 0:
            return
        c = world.counters
        if spec.parties > 0:
            recorded[rows] = True
            c.add_cells("exposure", cell[subject], spec.parties * self.sensitivity[venue[rows]])
        if self.params.deployment.mode == "feedback":
            region = world.array("people.region")
            np.add.at(world.state["counts"][spec.code], (venue[rows], region[subject]), 1.0)
        if not spec.to_apparatus:
            c.add_cells("private_captures", cell[subject])
            return
        c.add_cells("sensor_records", cell[subject])
        cat = world.catalogue
        obs_parts.append(Table.from_columns(
            OBSERVATION_LAYOUT, ref=unfiled(rows.size), subject=subject, act=k,
            source=np.full(rows.size, self.params.source_code),
            sensor=np.full(rows.size, spec.code)))
        truth_parts.append(Table.from_columns(
            OBSERVATION_TRUTH_LAYOUT, act_ref=pack_ref(day, rows), true_actor=a, true_act=k,
            erroneous=subject != a,
            lawful=cat.lawful_ref[cat.position_of_code[k]]))

    def _false_reports(self, world, day, s, obs_parts, truth_parts) -> None:
        """Informants report acts that never happened: Poisson per covered region."""
        spec: SensorSpec = s["spec"]
        report_codes = s["report_codes"]
        if report_codes.size == 0:
            return
        rate = spec.false_report_rate * (1.0 + spec.reward_response * spec.reward)
        regions = np.flatnonzero(s["allowed"].any(axis=0))
        factor = (self._approval_factor(world, spec) if spec.approval_weight
                  else np.ones(self.R))
        cnt, who_s, act_s = (world.stream(x) for x in ("false_count", "false_subject",
                                                       "false_act"))
        cell = world.array("people.cell")
        for r in regions:  # loop over regions
            members = self.region_members[r]
            if members.size == 0:
                continue
            slot = REGION_LAYOUT.pack(sensor=spec.code, region=int(r))
            k = int(cnt.poisson(day, slot, np.zeros(1, np.int64),
                                members.size * rate * factor[r])[0])
            if k == 0:
                continue
            ordinal = np.arange(k, dtype=np.int64)
            w = who_s.words(day, slot, ordinal)[:, 0].astype(np.uint64)
            subject = members[((w * np.uint64(members.size)) >> np.uint64(32)).astype(np.int64)]
            w2 = act_s.words(day, slot, ordinal)[:, 0].astype(np.uint64)
            act = report_codes[((w2 * np.uint64(report_codes.size)) >> np.uint64(32))
                               .astype(np.int64)]
            c = world.counters
            c.add_cells("informant_false_reports", cell[subject])
            if spec.parties > 0:
                c.add_cells("exposure", cell[subject],
                            spec.parties * self.sensitivity[self.act_venue[act]])
            if not spec.to_apparatus:
                continue
            obs_parts.append(Table.from_columns(
                OBSERVATION_LAYOUT, ref=unfiled(k), subject=subject, act=act,
                source=np.full(k, self.params.source_code), sensor=np.full(k, spec.code)))
            truth_parts.append(Table.from_columns(
                OBSERVATION_TRUTH_LAYOUT, act_ref=np.full(k, -1), true_actor=np.full(k, -1),
                true_act=np.zeros(k),
                erroneous=np.ones(k, dtype=bool), lawful=np.zeros(k, dtype=bool)))

    @staticmethod
    def _approval_factor(world, spec: SensorSpec) -> np.ndarray:
        """Legitimacy → reporting: informants in region r report
        ``exp(w · (logit ā_r − logit a_ref))`` times as often, ā_r the region's mean
        approval of the system yesterday (``regions.approval``, owned by attitudes)."""
        a = np.clip(world.array("regions.approval").astype(np.float64), 1e-6, 1 - 1e-6)
        return np.exp(spec.approval_weight * (logit(a) - logit(spec.approval_reference)))

    def _screen(self, world, day, cp, acts, obs_parts, truth_parts, recorded) -> None:
        """Checkpoint screening of today's trips against yesterday's watchlist."""
        spec: CheckpointSpec = cp["spec"]
        if not len(acts):
            return
        region = world.array("people.region")
        cell = world.array("people.cell")
        until = world.array("people.detained_until")
        actor = acts["actor"].astype(np.int64)
        codes = acts["act"]
        rows = np.flatnonzero(cp["act_ok"][codes] & cp["region_ok"][region[actor]]
                              & (until[actor] <= day))
        if rows.size == 0:
            return
        u = self.uniforms(world, "screen", day, spec.code, codes[rows], actor[rows])
        rows = rows[u < spec.coverage]
        if rows.size == 0:
            return
        a, k = actor[rows], codes[rows]
        wl = world.optional("people.watchlisted")
        wrec = world.optional("people.watchlist_record")
        cause = wl[a] if wl is not None else np.zeros(a.size, dtype=np.uint8)
        listed = cause != 0
        if spec.identification == "face":
            gallery = spec.gallery if spec.gallery is not None else \
                self._watchlist_size(wl)
            fmr, fnmr = self.face_rates(world, a)
            p = np.where(listed, 1.0 - fnmr, false_alarm_probability(fmr, gallery))
            alarm = self.uniforms(world, "alarm", day, spec.code, k, a) < p
        else:
            alarm = listed
        c = world.counters
        c.add_cells("screenings", cell[a])
        c.add_cells("screenings_unlisted", cell[a[~listed]])
        false = alarm & ~listed
        c.add_cells("false_alarms", cell[a[false]])
        c.add_cells("true_alarms", cell[a[alarm & listed]])
        c.add_cells("blocked_movement", cell[a[alarm]])
        if false.any():
            alarms = world.array("people.false_alarms")
            np.add.at(alarms, a[false], alarms.dtype.type(1))
        if spec.on_alarm == "detain" and alarm.any():
            who, first = np.unique(a[alarm], return_index=True)
            until[who] = min(day + 1 + spec.detention_days, NEVER - 1)
            world.append("detentions", Table.from_columns(
                DETENTION_LAYOUT, person=who, cause=cause[alarm][first],
                record=wrec[who] if wrec is not None else np.full(who.size, -1)))
        if spec.record_screenings:
            recorded[rows] = True
            c.add_cells("exposure", cell[a], spec.parties * self.sensitivity[acts["venue"][rows]])
            cat = world.catalogue
            obs_parts.append(Table.from_columns(
                OBSERVATION_LAYOUT, ref=unfiled(rows.size), subject=a, act=k,
                source=np.full(rows.size, self.params.source_code),
                sensor=np.full(rows.size, spec.code)))
            truth_parts.append(Table.from_columns(
                OBSERVATION_TRUTH_LAYOUT, act_ref=pack_ref(day, rows), true_actor=a, true_act=k,
                erroneous=np.zeros(rows.size, dtype=bool),
                lawful=cat.lawful_ref[cat.position_of_code[k]]))

    def _redeploy(self, world, day: int) -> None:
        """Feedback: move each sensor's coverage towards where it made records."""
        dep = self.params.deployment
        if dep.mode != "feedback" or (day + 1) % dep.period_days:
            return
        st = world.state
        for s in self.sensors:
            code = s["spec"].code
            counts = st["counts"][code]
            total = counts.sum()
            if total <= 0:
                continue
            allowed = s["allowed"]
            cov = st["cov"][code]
            pop = np.broadcast_to(self.region_sizes, cov.shape)
            budget = (cov * pop)[allowed].sum()
            target = np.zeros_like(cov)
            target[allowed] = budget * counts[allowed] / total / np.maximum(pop[allowed], 1.0)
            moved = (1.0 - dep.rate) * cov + dep.rate * target
            # the budget is conserved: what a full cell cannot take goes to the others
            filled, lost = water_fill(moved[allowed], pop[allowed], budget)
            new = np.zeros_like(cov)
            new[allowed] = filled
            st["cov"][code] = new
            st["budget_lost"] = st.get("budget_lost", 0.0) + lost
            st["cov_by_cell"] = None
            counts[:] = 0.0
        self._publish_watch(world)

    def _sensor_miss(self, cov: dict) -> np.ndarray:
        """(regions, acts): the chance an act escapes every sensor whose data reach
        someone, for the given coverage — the sensors' part of what the informed perceive
        (``consequences``)."""
        miss = np.ones((self.R, self.act_code.size))
        venue = self.act_venue[self.act_code]
        for s in self.sensors:
            spec = s["spec"]
            if spec.parties == 0:
                continue
            local = cov[spec.code][venue].T * (spec.consent_share if spec.consent else 1.0)
            miss *= 1.0 - np.where(s["act_ok"][self.act_code][None, :], local, 0.0)
        return miss

    def _publish_watch(self, world) -> None:
        """After a redeployment: how much more (or less) each act escapes the sensors in
        each region than at day 0. Where nothing escaped at day 0 the factor stays 1."""
        now = self._sensor_miss(world.state["cov"])
        start = self.miss_at_start
        factor = np.where(start > 0, now / np.where(start > 0, start, 1.0), 1.0)
        world.array("regions.watch_factor")[...] = factor

    final_metric_defs = (
        FinalMetricDef("deployment_budget_lost", "feedback deployment: share of the starting coverage budget lost to regions it may not watch",
                       theme="privacy", unit="share of the starting coverage budget"),
        FinalMetricDef("complaint_participation", "share of tenants who joined the complaint against the landlord's camera",
                       theme="governance", unit="share of tenants"),
        FinalMetricDef("landlord_removed_day", "the day the regulator removed the landlord's camera (undefined if never)",
                       theme="governance", unit="day of the run"),
    )

    def _watchlist_size(self, listed: np.ndarray | None) -> int:
        """The watchlist's size yesterday: the nation's (handed in on a partition)."""
        if self.national_watchlist_size is not None:
            return self.national_watchlist_size
        return int(np.count_nonzero(listed)) if listed is not None else 0

    def final_metrics(self, world) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        if self.params.deployment.mode == "feedback":
            st = world.state
            start = sum(float((np.where(s["allowed"], s["spec"].reach_by_region(self.R)[None, :],
                                        0.0) * self.region_sizes).sum()) for s in self.sensors)
            out["deployment_budget_lost"] = st.get("budget_lost", 0.0) / start if start else None
        if self.landlord is None:
            return out
        ls = world.state["landlord"]
        n = self.landlord.all_tenants
        return {**out, "complaint_participation": ls["joined_all"] / n if n else None,
                "landlord_removed_day": float(ls["removed"]) if ls["removed"] >= 0 else None}
