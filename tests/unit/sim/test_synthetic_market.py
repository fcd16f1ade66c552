"""The synthetic market is learnable: top-of-book imbalance predicts the next mid move."""

from __future__ import annotations

import pytest

from flashmm_engine.config.sim import SimSettings
from flashmm_engine.venues.sim.from_settings import sim_spec, synthetic_params
from flashmm_engine.venues.sim.stylized import describe


def test_imbalance_predicts_the_next_mid_move_above_chance() -> None:
    settings = SimSettings()
    for seed in (1, 2):
        facts = describe(sim_spec(settings), synthetic_params(settings), seed, seconds=60.0)
        assert facts["mid_moves"] > 200
        assert facts["imbalance_direction_accuracy"] >= 0.60, facts


def test_stylized_facts_are_deterministic_and_plausible() -> None:
    settings = SimSettings()
    a = describe(sim_spec(settings), synthetic_params(settings), 7, seconds=30.0)
    assert a == describe(sim_spec(settings), synthetic_params(settings), 7, seconds=30.0)
    assert a["spread_ticks_distribution"]["1"] > 0.5 and a["mean_spread_ticks"] >= 1
    assert sum(a["spread_ticks_distribution"].values()) == pytest.approx(1, abs=1e-3)
    assert a["trade_rate_per_s"] > 1 and a["volatility_bps_per_sqrt_s"] > 0
