"""Scenarios: YAML loading with ``extends`` and overrides (validating each module block), builtin
files; the schema itself is ``scslab.core.scenario_schema``."""

from scslab.core.scenario_schema import Scenario
from scslab.scenario.loader import (
    DEFAULT_SCENARIO,
    ScenarioError,
    builtin_names,
    load_scenario,
    load_scenario_text,
    resolved_dict,
    resolved_yaml,
    scenario_from_dict,
)

__all__ = [
    "DEFAULT_SCENARIO",
    "Scenario",
    "ScenarioError",
    "builtin_names",
    "load_scenario",
    "load_scenario_text",
    "resolved_dict",
    "resolved_yaml",
    "scenario_from_dict",
]
