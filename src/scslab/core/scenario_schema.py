"""The scenario schema (pydantic v2). Unknown keys are rejected everywhere.

Catalogues (groups, venues, acts, sources) are name-keyed mappings so that ``extends:``
deep-merges them and ``--set acts.traffic.rate=0.02`` addresses one entry. Module
parameters live under ``modules:``, one typed block per registered module.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Code = Annotated[int, Field(ge=0, le=255)]
ActClass = Literal["violation", "prosocial", "expression", "economic", "movement"]

#: Days are a 16-bit counter field of the random streams.
MAX_TOTAL_DAYS = 65_535



class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, validate_default=True)


class GroupSpec(Strict):
    """A population group. Region weights and income let proxies such as region carry
    disparity (people of a group concentrate in some regions)."""

    share: Annotated[float, Field(gt=0.0, le=1.0)]
    income_multiplier: Annotated[float, Field(gt=0.0)] = 1.0
    region_weights: list[NonNegative] | None = None
    awareness: Probability | None = None  # overrides population.traits.awareness
    honesty_mean: Annotated[float, Field(gt=0.0, lt=1.0)] | None = None  # overrides traits


class NetworkSpec(Strict):
    degree: Annotated[int, Field(ge=0, le=200)] = 10
    homophily: Probability = 0.8

    @field_validator("degree")
    @classmethod
    def _even(cls, v: int) -> int:
        if v % 2:
            raise ValueError("degree must be even (each person links to degree/2 on each side)")
        return v


class TraitSpec(Strict):
    """Latent traits are logistic-normal: sigmoid(logit(mean) + sd * z)."""

    honesty_mean: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.8
    honesty_sd: NonNegative = 1.0
    privacy_concern_mean: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    trait_sd: NonNegative = 1.0
    awareness: Probability = 0.11


class PopulationSpec(Strict):
    people: Annotated[int, Field(gt=0, le=100_000_000)] = 100_000
    regions: Annotated[int, Field(ge=1, le=255)] = 4
    groups: dict[str, GroupSpec] = Field(
        default_factory=lambda: {
            "majority": GroupSpec(share=0.9),
            "minority": GroupSpec(share=0.1, income_multiplier=0.8),
        }
    )
    reference_group: str = "majority"
    region_income: list[Annotated[float, Field(gt=0.0)]] | None = None
    income_sigma: NonNegative = 0.6
    female_share: Probability = 0.5
    household_mean_size: Annotated[float, Field(ge=1.0, le=20.0)] = 2.8
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    traits: TraitSpec = Field(default_factory=TraitSpec)
    firms_per_1000: NonNegative = 10.0
    state_owned_share: Probability = 0.3
    officials_per_region: Annotated[int, Field(ge=0)] = 20

    @model_validator(mode="after")
    def _check(self) -> PopulationSpec:
        if not self.groups:
            raise ValueError("groups: at least one group is needed")
        if len(self.groups) > 255:
            raise ValueError("groups: at most 255 groups")
        total = sum(g.share for g in self.groups.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"groups: shares sum to {total:.6g}, not 1")
        if self.reference_group not in self.groups:
            raise ValueError(
                f"reference_group: {self.reference_group!r} is not one of the groups "
                f"{sorted(self.groups)}"
            )
        for name, g in self.groups.items():
            if g.region_weights is not None:
                if len(g.region_weights) != self.regions:
                    raise ValueError(
                        f"groups.{name}.region_weights: {len(g.region_weights)} weights for "
                        f"{self.regions} regions"
                    )
                if sum(g.region_weights) <= 0:
                    raise ValueError(f"groups.{name}.region_weights: all zero")
        if self.people * self.network.degree >= 2**31:
            raise ValueError(
                f"network.degree: {self.people} people × degree {self.network.degree} links "
                f"exceed the 2^31 the network's int32 offsets can address"
            )
        if self.region_income is not None and len(self.region_income) != self.regions:
            raise ValueError(
                f"region_income: {len(self.region_income)} values for {self.regions} regions"
            )
        return self


class TimeSpec(Strict):
    days: Annotated[int, Field(gt=0)] = 1825
    burn_in: Annotated[int, Field(ge=0)] = 365

    @model_validator(mode="after")
    def _fits(self) -> TimeSpec:
        if self.days + self.burn_in > MAX_TOTAL_DAYS:
            # name the larger term, so the error points at the option or key that set it
            raise ValueError(
                f"{'days' if self.days >= self.burn_in else 'burn_in'}: days + burn_in = {self.days + self.burn_in} exceeds {MAX_TOTAL_DAYS} "
                "(the 16-bit day field of the random streams)"
            )
        return self


class VenueSpec(Strict):
    code: Code
    sensitivity: NonNegative = 1.0  # weight of a record made here in privacy exposure


class ActSpec(Strict):
    code: Annotated[int, Field(ge=1, le=255)]  # 0 is reserved: records with no act
    act_class: ActClass = Field(alias="class")
    venue: str
    rate: NonNegative  # base rate per person-day
    gain: float = 0.0  # private gain, in median daily incomes
    harm: float = 0.0  # external harm, in median daily incomes
    lawful_ref: bool  # lawful under the reference norm, whatever a scenario punishes
    penalty: NonNegative = 0.0  # ordinary legal sanction if caught, money units
    displaced_venue: str | None = None  # where the act goes when displaced (optional channel)


class SourceSpec(Strict):
    """An administrative source: sees some acts, records them with its own errors."""

    code: Code
    sees: list[str]
    coverage: Probability
    misattribution: Probability = 0.0  # recorded against a random other person
    fabrication_rate: NonNegative = 0.0  # records with no act, per person-day
    #: misclassification: true act -> {reported act: probability}
    confusion: dict[str, dict[str, Probability]] = Field(default_factory=dict)


class ModuleParams(Strict):
    enabled: bool = True


P = TypeVar("P", bound=BaseModel)


class Scenario(Strict):
    name: str = "unnamed"
    description: str = ""
    extends: str | None = None
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 20_261_127
    reference_norm: str = "ICCPR"
    population: PopulationSpec = Field(default_factory=PopulationSpec)
    time: TimeSpec = Field(default_factory=TimeSpec)
    venues: dict[str, VenueSpec] = Field(default_factory=dict)
    acts: dict[str, ActSpec] = Field(default_factory=dict)
    sources: dict[str, SourceSpec] = Field(default_factory=dict)
    modules: dict[str, dict] = Field(default_factory=dict)


    def module_params(self, name: str, params: type[P]) -> P:
        """The parameters of module ``name`` (its ``modules.<name>`` block), validated by
        the module's own ``Params`` class: the one way a module reads another's parameters,
        so the defaults are the owner's and never re-stated."""
        return params.model_validate(self.modules.get(name, {}))

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        _unique_codes("venues", {k: v.code for k, v in self.venues.items()})
        _unique_codes("acts", {k: v.code for k, v in self.acts.items()})
        _unique_codes("sources", {k: v.code for k, v in self.sources.items()})
        for name, act in self.acts.items():
            for field, venue in (("venue", act.venue), ("displaced_venue", act.displaced_venue)):
                if venue is not None and venue not in self.venues:
                    raise ValueError(
                        f"acts.{name}.{field}: unknown venue {venue!r}; known: {sorted(self.venues)}"
                    )
        for name, src in self.sources.items():
            for act in src.sees:
                if act not in self.acts:
                    raise ValueError(
                        f"sources.{name}.sees: unknown act {act!r}; known: {sorted(self.acts)}"
                    )
            for true_act, reported in src.confusion.items():
                if true_act not in src.sees:
                    raise ValueError(
                        f"sources.{name}.confusion.{true_act}: the source does not see this act"
                    )
                for act in reported:
                    if act not in self.acts:
                        raise ValueError(
                            f"sources.{name}.confusion.{true_act}: unknown act {act!r}"
                        )
                if sum(reported.values()) > 1.0 + 1e-9:
                    raise ValueError(
                        f"sources.{name}.confusion.{true_act}: probabilities sum above 1"
                    )
        return self


def _unique_codes(catalogue: str, codes: dict[str, int]) -> None:
    seen: dict[int, str] = {}
    for name, code in codes.items():
        if code in seen:
            raise ValueError(f"{catalogue}.{name}.code: code {code} is also used by {seen[code]!r}")
        seen[code] = name
