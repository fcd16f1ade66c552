"""Drill: the engine's Binance reference feed through the replay server with a disconnect every 10 s of feed
(by message count), 1% seeded drops and one frozen spell, while the engine quotes against the real sim
venue process. The engine must keep quoting throughout (base quotes while the reference is stale or
resyncing), and the basis feature must come back after every break.

Faults are counted in messages and seeded draws, so they are the same on every run; the replay runs at
speed 1 (a real-time feed beside a 5 Hz engine), and every wait has a generous guard, never a threshold.
"""

from __future__ import annotations

import asyncio
import math
from fractions import Fraction
from pathlib import Path

from pydantic import SecretStr

from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.config.marketdata import BinanceSettings, RecorderSettings
from flashmm_engine.config.settings import Settings
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.engine.runtime import EngineRuntime
from flashmm_engine.types import TradingState
from flashmm_engine.venues.binance.faults import FaultPlan
from flashmm_engine.venues.binance.replay_server import ReplayServer, load_replay_lines
from tests.integration.sim_process import sim_venue_process
from tests.integration.test_engine_bad_input import KEY, MARKET, venue_env, wait_until

MESSAGES_PER_10_S = 1_134
"""The spot slice streams 7,999 messages over 70.5 s: a connection ends after 10 s worth of them."""
STALL_AFTER, STALL_S = 3_000, 3.0
"""One frozen spell, longer than the reference's stale limit and shorter than the connector's."""
REFERENCE_STALE_S = 1.0
SEED = 14
RUN_GUARD_S = 300.0
POLL_S = 0.05


def _settings(tmp_path: Path, venue_url: str, server: ReplayServer) -> Settings:
    return Settings(
        engine=EngineSettings(
            markets=[MARKET],
            sim_urls={MARKET: venue_url},
            ledger_url=SecretStr(f"sqlite:///{tmp_path / 'ledger.db'}"),
            reference_feed=True,
            reference_symbol="ETHUSDT",
            reference_stale_s=REFERENCE_STALE_S,
        ),
        sim=SimSettings(api_keys={"mm": SecretStr(KEY)}),
        binance=BinanceSettings(
            market="spot",
            ws_urls=[server.ws_url],
            rest_urls=[server.base_url],
            stale_after_s=5.0,
            reconnect_max_s=0.5,
        ),
        recorder=RecorderSettings(directory=tmp_path / "raw"),
    )


async def test_reference_feed_disconnects_and_drops_never_stop_quoting(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    lines = load_replay_lines(fixtures_dir / "binance" / "spot_ethusdt_slice.raw.gz")
    faults = FaultPlan(
        disconnect_after_messages=MESSAGES_PER_10_S,
        drop=0.01,
        stall_after_messages=STALL_AFTER,
        stall_s=STALL_S,
        seed=SEED,
    )
    server = ReplayServer(lines, "spot", speed=1.0, faults=faults)
    await server.start()
    stale_samples: list[bool] = []  # at each poll that saw a stale reference: were our quotes up?
    try:
        with sim_venue_process([], venue_env(), tmp_path) as started:
            runtime = EngineRuntime(_settings(tmp_path, started["url"], server), [MARKET])
            stop = asyncio.Event()
            task = asyncio.create_task(runtime.run(stop))
            await asyncio.wait_for(runtime.started.wait(), RUN_GUARD_S)
            (runner,) = runtime.runners
            reference = runtime.reference
            assert reference is not None
            async with asyncio.timeout(RUN_GUARD_S):
                while not server.finished.is_set():
                    view = runner.last_view
                    if view is not None and not view.reference_fresh:
                        stale_samples.append(bool(runner.core.working_orders()))
                    await asyncio.sleep(POLL_S)
            await wait_until(lambda: runner.last_view is not None and runner.last_view.reference_fresh)
            view = runner.last_view
            fs = runner.features
            assert reference.feed is not None
            book = reference.feed.processor.book
            best_bid, best_ask = book.best_bid(), book.best_ask()
            ref_mid_x2, own_mid_x2 = fs.ref_mid_x2, fs.mid_x2
            states = runner.stats.alerts.copy(), runner.core.state.state
            stale_cycles, batches = runner.stats.reference_stale_cycles, runner.stats.batches
            summary = reference.summary()
            stop.set()
            await task
    finally:
        await server.stop()
    injected = server.fault_counts
    print(
        f"\nreference drill: injected disconnects {injected.disconnects}, drops {injected.dropped},"
        f" stalls {injected.stalls}; connector connects {summary['connects']}, disconnects"
        f" {summary['disconnects']}, resyncs {summary['resyncs']}, gaps {summary['gaps']}, snapshots"
        f" {summary['snapshots']}; engine: stale spans {summary['unavailable_spans']}, recoveries"
        f" {summary['recoveries']}, stale cycles {stale_cycles} (quoting at {sum(stale_samples)} of"
        f" {len(stale_samples)} stale polls), batches {batches}, state {states[1].value}"
    )
    assert injected.disconnects == len(lines) // MESSAGES_PER_10_S == 7
    assert injected.dropped > 0 and injected.stalls == 1
    assert int(str(summary["connects"])) >= injected.disconnects + 1
    assert int(str(summary["resyncs"])) >= injected.disconnects
    # the reference went stale (the frozen spell at least) and came back every time
    assert stale_cycles >= 1 and int(str(summary["unavailable_spans"])) >= 1
    assert summary["recoveries"] == summary["unavailable_spans"] and summary["fresh"] is True
    # quoting never stopped: the market stayed ACTIVE with quotes up while the reference was stale
    assert states[1] is TradingState.ACTIVE and not states[0]
    assert stale_samples and all(stale_samples)
    # the basis feature is back, computed from the reference book the connector rebuilt last
    assert view is not None and view.features is not None
    assert best_bid is not None and best_ask is not None and ref_mid_x2 is not None and own_mid_x2
    ratio = Fraction(1, 5)  # spot ETHUSDT tick 0.01 / sim tick 0.05
    assert ref_mid_x2 == round(best_bid[0] * ratio) + round(best_ask[0] * ratio)
    basis = view.features[fs.names.index("ref_basis_bps")]
    assert math.isfinite(basis) and basis != 0.0
