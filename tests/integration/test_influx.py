"""InfluxDB points through the engine's own writer to Debian's victoria-metrics (its /api/v2/write takes
influxdb-client's writes), read back through its export API. The engine starts while nothing listens on the
port: the failed writes are counted and logged without the token, the bounded queue drops its oldest
points, the cycle goes on, and once the server is up the queued and new points arrive."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import aiohttp
import orjson
import pytest
from pydantic import SecretStr

from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.config.marketdata import RecorderSettings
from flashmm_engine.config.services import TelemetrySettings
from flashmm_engine.config.settings import Settings
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.engine.runtime import EngineRuntime
from tests.integration.sim_process import sim_venue_process
from tests.integration.telemetry_support import free_port, victoria_metrics, wait_until

EXPORT_POLLS = 600
MIN_EXPORTED_POINTS = 3
KEY = "influx-test-key"
TOKEN = "influx-token-must-not-leak-7f3a"
MARKET = "SIM:ETHUSD"
QUEUE_MAX = 3
WAIT_S = 60.0


async def exported(base_url: str) -> list[dict[str, object]]:
    """Every flashmm_market series in victoria-metrics, as its export API returns them (JSON lines)."""
    async with aiohttp.ClientSession() as session:
        await session.get(f"{base_url}/internal/force_flush")
        params = {"match[]": '{__name__=~"flashmm_market_.*"}'}
        async with session.get(f"{base_url}/api/v1/export", params=params) as response:
            body = await response.read()
    return [orjson.loads(line) for line in body.splitlines() if line.strip()]


async def test_points_reach_victoria_metrics_and_failed_writes_are_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port()
    env = {"FLASHMM_SIM__PORT": "0", "FLASHMM_SIM__API_KEYS": json.dumps({"mm": KEY})}
    with sim_venue_process([], env, tmp_path) as started:
        settings = Settings(
            engine=EngineSettings(
                markets=[MARKET],
                sim_urls={MARKET: started["url"]},
                ledger_url=SecretStr(f"sqlite:///{tmp_path / 'ledger.db'}"),
            ),
            sim=SimSettings(api_keys={"mm": SecretStr(KEY)}),
            telemetry=TelemetrySettings(
                influx_url=SecretStr(f"http://127.0.0.1:{port}"),
                influx_token=SecretStr(TOKEN),
                influx_interval_s=0.25,
                influx_queue_max=QUEUE_MAX,
            ),
            recorder=RecorderSettings(enabled=False),
        )
        runtime = EngineRuntime(settings, [MARKET])
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run(stop))
        await asyncio.wait_for(runtime.started.wait(), WAIT_S)
        influx = runtime.telemetry.influx
        assert influx is not None
        (runner,) = runtime.runners
        await wait_until(lambda: influx.write_failures >= 2 and influx.dropped_points >= 1, WAIT_S, "fails")
        cycles_while_down = runner.stats.cycles
        failures = influx.write_failures
        dropped = influx.dropped_points
        assert len(influx.queue) <= QUEUE_MAX
        vm_dir = tmp_path / "vm"
        vm_dir.mkdir()
        with victoria_metrics(vm_dir, port) as base_url:
            await wait_until(lambda: influx.points_written >= 5, WAIT_S, "points written")
            series: list[dict[str, object]] = []
            # VictoriaMetrics makes points searchable in batches: wait until the cycles series holds
            # several, not only until it exists
            for _ in range(EXPORT_POLLS):
                series = await exported(base_url)
                cycles_values = [
                    s["values"]
                    for s in series
                    if s["metric"]["__name__"] == "flashmm_market_cycles"  # type: ignore[index]
                ]
                if cycles_values and len(cycles_values[0]) >= MIN_EXPORTED_POINTS:  # type: ignore[arg-type]
                    break
                await asyncio.sleep(0.1)
            stop.set()
            await task
    assert not task.exception() and not runtime.telemetry.tasks.failures
    by_name = {s["metric"]["__name__"]: s for s in series}  # type: ignore[index]
    print(
        f"\ninflux: {failures} failed writes and {dropped} dropped points while down "
        f"(cycles went on: {cycles_while_down}); then {influx.points_written} written; "
        f"series {sorted(by_name)}"
    )
    cycles = by_name["flashmm_market_cycles"]
    assert cycles["metric"]["market"] == MARKET and cycles["metric"]["instance"] == "e1"  # type: ignore[index]
    values = cycles["values"]
    assert (
        isinstance(values, list)
        and len(values) >= MIN_EXPORTED_POINTS
        and values == sorted(values)
        and values[-1] > 0
    )
    assert "flashmm_market_position_lots" in by_name
    assert cycles_while_down > 0
    assert TOKEN not in caplog.text
    assert influx.last_error is None or TOKEN not in influx.last_error
