"""The seeded fault simulation: clean seeds hold every invariant, a seed replays exactly, and bugs planted
by hand in the engine's code are found within 100 seeds."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from flashmm_engine.chaos.batch import run_batch
from flashmm_engine.chaos.cli import sim
from flashmm_engine.chaos.faults import FAULT_KINDS
from flashmm_engine.chaos.sim import run_seed
from flashmm_engine.ledger.store import Ledger
from flashmm_engine.risk.gate import RiskGate
from flashmm_engine.types import Fill

SUITE_SEEDS = 30
STEPS = 80
PLANTED_BUDGET = 100


def first_failing_seed(steps: int = STEPS) -> int | None:
    for seed in range(PLANTED_BUDGET):
        if run_seed(seed, steps).violations:
            return seed
    return None


def test_thirty_seeds_hold_every_invariant_and_inject_every_fault() -> None:
    summary = run_batch(range(SUITE_SEEDS), STEPS)
    assert summary.failing == []
    assert summary.violations == 0
    assert summary.fills > SUITE_SEEDS  # the quotes trade: the fill path is exercised
    missing = [kind for kind in FAULT_KINDS if summary.faults[kind] == 0]
    assert missing == []


def test_a_seed_replays_exactly() -> None:
    first, second = run_seed(7, STEPS, trace=True), run_seed(7, STEPS, trace=True)
    assert first.trace and first.trace == second.trace
    assert first.faults == second.faults
    assert run_seed(8, STEPS, trace=True).trace != first.trace


def test_a_ledger_that_does_not_deduplicate_fills_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """The planted bug: the ledger's duplicate check keys on something that differs per delivery."""
    record_fill = Ledger.record_fill
    deliveries = itertools.count()

    def without_dedup(self: Ledger, venue: str, instance_id: str, fill: Fill, seq: int | None = None) -> Any:
        unique = dataclasses.replace(fill, fill_id=f"{fill.fill_id}#{next(deliveries)}")
        return record_fill(self, venue, instance_id, unique, seq)

    monkeypatch.setattr(Ledger, "record_fill", without_dedup)
    seed = first_failing_seed()
    assert seed is not None
    violations = run_seed(seed, STEPS).violations
    assert any("fill" in v or "position" in v for v in violations)


def test_a_risk_gate_that_forgets_working_orders_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """The planted bug: the worst-case position check ignores the orders already working."""
    approve = RiskGate.approve

    def forgetful(self: RiskGate, view: Any, places: Any) -> Any:
        return approve(self, dataclasses.replace(view, working=()), places)

    monkeypatch.setattr(RiskGate, "approve", forgetful)
    seed = first_failing_seed()
    assert seed is not None
    assert any("worst-case position" in v for v in run_seed(seed, STEPS).violations)


def test_cli_prints_one_json_line_and_replays_a_seed_with_its_trace() -> None:
    runner = CliRunner()
    result = runner.invoke(sim, ["--seeds", "3", "--start", "5", "--steps", "40"])
    assert result.exit_code == 0, result.output
    summary = orjson.loads(result.stdout.strip().splitlines()[-1])
    assert summary["seeds"] == 3 and summary["steps"] == 120 and summary["violations"] == 0
    assert set(summary["faults"]) == set(FAULT_KINDS)
    replay = runner.invoke(sim, ["--seed", "5", "--steps", "40"])
    assert replay.exit_code == 0, replay.output
    one = orjson.loads(replay.stdout.strip().splitlines()[-1])
    assert one["seed"] == 5 and one["violations"] == [] and len(one["trace"]) > 0
