"""Every asset, asset check, sensor and schedule in the Definitions is exercised by some test on the small
fixture slices and by some test on synthetic sim data. Tests declare what they exercise with
`@pytest.mark.covers(*keys, data=...)`; a definition added without a test, or a declaration naming a
definition that no longer exists, fails here."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import defaultdict
from types import ModuleType

import pytest

import tests.integration.dagster
import tests.unit.dagster
from flashmm_dagster.definitions import defs

DATA_KINDS = ("fixture", "synthetic")
PACKAGES = (tests.unit.dagster, tests.integration.dagster)


def definition_keys() -> set[str]:
    graph = defs.resolve_asset_graph()
    keys = {f"asset:{k.to_user_string()}" for k in graph.get_all_asset_keys()}
    keys |= {f"check:{k.asset_key.to_user_string()}.{k.name}" for k in graph.asset_check_keys}
    keys |= {f"sensor:{s.name}" for s in defs.sensors or ()}
    keys |= {f"schedule:{s.name}" for s in defs.schedules or ()}
    return keys


def dagster_test_modules() -> list[ModuleType]:
    found = []
    for package in PACKAGES:
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.startswith("test_"):
                found.append(importlib.import_module(f"{package.__name__}.{info.name}"))
    return found


def declared() -> dict[str, dict[str, list[str]]]:
    """data kind -> definition key -> the tests declaring it."""
    out: dict[str, dict[str, list[str]]] = {kind: defaultdict(list) for kind in DATA_KINDS}
    for module in dagster_test_modules():
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("test_"):
                continue
            for mark in getattr(function, "pytestmark", []):
                if mark.name != "covers":
                    continue
                kind = mark.kwargs["data"]
                assert kind in DATA_KINDS, f"{module.__name__}.{name}: data={kind!r}"
                for key in mark.args:
                    out[kind][key].append(f"{module.__name__}.{name}")
    return out


def test_definitions_are_the_expected_kinds() -> None:
    keys = definition_keys()
    assert {k.split(":")[0] for k in keys} == {"asset", "check", "sensor", "schedule"}
    assert len([k for k in keys if k.startswith("check:")]) == 16


@pytest.mark.parametrize("kind", DATA_KINDS)
def test_every_definition_is_covered(kind: str) -> None:
    covered = declared()[kind]
    keys = definition_keys()
    assert sorted(keys - set(covered)) == [], f"not exercised on {kind} data"
    assert sorted(set(covered) - keys) == [], "declared but not in the Definitions"
