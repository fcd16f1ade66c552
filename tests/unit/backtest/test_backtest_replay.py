"""The backtester on a real (trimmed) capture, the synthetic mode, and the CLI's JSON contract."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from flashmm_engine.backtest.run import BacktestOptions, backtest_tables, run_columns
from flashmm_engine.backtest.synthetic_run import backtest_synthetic
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.marketdata.normalize import NormalizedTables
from flashmm_engine.types import NS_PER_MS, MarketSpec
from flashmm_engine.venues.captures import load_capture
from flashmm_engine.venues.sim.replay_columns import (
    ASK_LEVEL,
    BID_LEVEL,
    CLEAR,
    CLEAR_EVENT,
    LEVEL,
    TRADE,
    TRADE_EVENT,
    EventColumns,
)

REQUIRED = {
    "events",
    "seconds",
    "events_per_s",
    "decisions",
    "fills",
    "volume",
    "pnl",
    "fees",
    "position",
    "max_drawdown",
    "markout_1s_bps",
}


@pytest.fixture(scope="module")
def usdm(fixtures_dir: Path) -> NormalizedTables:
    return load_capture(fixtures_dir / "binance" / "usdm_ethusdt_slice.raw.gz", "usdm")


def test_replay_backtest_is_deterministic_and_consistent(usdm: NormalizedTables) -> None:
    opts = BacktestOptions(half_spread_ticks=1, order_latency="10", queue="power:2", maker_fee_ppm=-50)
    first, second = backtest_tables(usdm, opts), backtest_tables(usdm, opts)
    timing = {"seconds", "events_per_s", "merge_seconds"}
    assert {k: v for k, v in first.items() if k not in timing} == {
        k: v for k, v in second.items() if k not in timing
    }
    assert first["events"] == len(usdm.book_delta) + len(usdm.book_snapshot) + len(usdm.trade)
    span_s = first["market_seconds"]
    assert abs(first["decisions"] - span_s * 5) <= 2  # 5 Hz
    assert first["fills"] > 0 and first["volume"] == pytest.approx(first["fills"] * 0.001)
    assert first["fees"] < 0  # maker rebates only: post-only quotes never take
    net = first["realized_pnl_units"] + first["unrealized_pnl_units"]  # realized is after fees
    assert first["pnl_units"] == net and first["fees_units"] < 0
    assert abs(first["position"]) <= 0.010 + 1e-9
    assert 0 < first["quote_uptime"] <= 1 and 0 < first["fill_ratio"] <= 1


def scripted_tape() -> EventColumns:
    """Book 100 x 102 (5 lots each), then three trades of 6 lots: a sell into 100, a buy of 102, a sell
    into 100."""
    rows = [  # ms, code, side, price, size
        (0, CLEAR_EVENT, 1, 100, 5),
        (0, ASK_LEVEL, -1, 102, 5),
        (300, TRADE_EVENT, -1, 100, 6),
        (500, TRADE_EVENT, 1, 102, 6),
        (700, TRADE_EVENT, -1, 100, 6),
        (800, ASK_LEVEL, -1, 102, 5),
    ]
    kinds = {CLEAR_EVENT: CLEAR, BID_LEVEL: LEVEL, ASK_LEVEL: LEVEL, TRADE_EVENT: TRADE}
    return EventColumns(
        [kinds[r[1]] for r in rows],
        [r[0] * NS_PER_MS for r in rows],
        [r[2] for r in rows],
        [r[3] for r in rows],
        [r[4] for r in rows],
        [r[1] for r in rows],
    )


@pytest.mark.parametrize("queue", ["risk-averse", "power:2"])
def test_replay_pnl_equals_a_hand_computation(queue: str) -> None:
    """Half spread 1 tick around mid 101, one-lot post-only quotes, 10 ms latency, 200 ms decisions.

    By hand: the 200 ms decision bids 100 and offers 102 (both join 5 lots ahead). The 300 ms sell of 6 gets
    past the 5 ahead: bought 1 @100. At 400 ms (long 1) the bid drops to 99 and the offer stays at 102
    (never inside the touch); the 500 ms buy of 6 lifts it: sold 1 @102. At 600 ms (flat) the bid is back at
    100 behind 5 lots; the 700 ms sell fills it: bought 1 @100. Maker fee -50 ppm: -5_000, -5_100, -5_000.
    Units (1e-6 tick x lot): realized (102 - 100) * 1e6 + 15_100 fees = 2_015_100; long 1 @100 marked at
    mid 101: unrealized 1_000_000; pnl 3_015_100.
    """
    spec = MarketSpec("ETHUSDT", Decimal("0.01"), Decimal("0.001"))
    opts = BacktestOptions(half_spread_ticks=1, order_latency="10", queue=queue, maker_fee_ppm=-50)
    result = run_columns(scripted_tape(), spec, opts)
    assert result["fills"] == 3
    assert result["fees_units"] == -15_100
    assert result["realized_pnl_units"] == 2_015_100
    assert result["unrealized_pnl_units"] == 1_000_000
    assert result["pnl_units"] == 3_015_100
    assert result["position"] == 0.001


def test_the_queue_model_matters(usdm: NormalizedTables) -> None:
    fills = {
        queue: backtest_tables(usdm, BacktestOptions(half_spread_ticks=0, queue=queue))["fills"]
        for queue in ("risk-averse", "power:2")
    }
    assert fills["power:2"] > fills["risk-averse"] > 0


def test_order_and_feed_latency_change_the_outcome(usdm: NormalizedTables) -> None:
    def fills(**kw: str) -> tuple[int, float]:
        result = backtest_tables(usdm, BacktestOptions(half_spread_ticks=0, **kw))  # type: ignore[arg-type]
        return result["fills"], result["pnl"]

    assert fills(order_latency="1") != fills(order_latency="150")
    assert fills(feed_latency="150") != fills() == fills(feed_latency="0")
    assert fills(feed_latency="150") == fills(feed_latency="150")


def test_synthetic_backtest_trades_against_the_agents() -> None:
    result = backtest_synthetic(30.0, SimSettings(), BacktestOptions(half_spread_ticks=1))
    assert 149 <= result["decisions"] <= 151 and result["fills"] > 0
    assert result == {
        **backtest_synthetic(30.0, SimSettings(), BacktestOptions(half_spread_ticks=1)),
        "seconds": result["seconds"],
        "events_per_s": result["events_per_s"],
    }


def test_cli_prints_one_json_object(fixtures_dir: Path) -> None:
    capture = fixtures_dir / "binance" / "usdm_ethusdt_slice.raw.gz"
    flashmm = Path(sys.executable).parent / "flashmm"
    args = [
        str(flashmm),
        "backtest",
        str(capture),
        "--strategy",
        "fixed",
        "--half-spread-ticks",
        "5",
        "--order-latency-ms",
        "10",
        "--queue",
        "power:2",
        "--json",
    ]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    result = json.loads(out)
    assert set(result) >= REQUIRED and out.count("\n") == 1
    bad = subprocess.run([*args[:3], "--queue", "fifo"], capture_output=True, text=True, timeout=60)
    assert bad.returncode != 0 and "unknown queue model" in bad.stderr
