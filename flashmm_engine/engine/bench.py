"""`flashmm bench engine`: the runtime with N markets against sim venue processes, a real TorchScript model
in the loop and a synthetic feed of at least the requested book messages per second in total.

Measured in the engine process only, after a warm-up: cycle time; tick-to-order, from the venue frame
carrying the latest book update a cycle decided on being read off the socket to that cycle's batch written
to the venue socket (so it includes the wait for the grid time and any queueing behind the feed); cycle-to-
order, from the cycle's start to the batch written; inference; cadence jitter (wake-up lateness against
the grid); missed cycles; RSS; and the book messages actually received per second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr

from flashmm_engine.config.control import ControlSettings
from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.config.marketdata import RecorderSettings
from flashmm_engine.config.reload import ReloadSettings
from flashmm_engine.config.services import DatabaseSettings, RedisSettings, TelemetrySettings
from flashmm_engine.config.settings import Settings
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.engine.bench_model import SEED
from flashmm_engine.engine.runtime import EngineRuntime
from flashmm_engine.engine.sim_venues import VENUE_KEY, rss_mb, start_sim_venues
from flashmm_engine.engine.stats import RuntimeStats, Samples
from flashmm_engine.errors import CommandFailed

log = logging.getLogger(__name__)

WARMUP_S = 3.0
ENGINE_START_S = 300.0
BOOK_EVENTS_PER_AGENT_EVENT = 1.0
"""Assumed when sizing the synthetic flow; the figure reported is what was received."""
SHADOW_SEED = 12


async def _export_model(root: Path, registry_url: str, stage: str, seed: int) -> None:
    """Train, export and register a bench model in a child process: its memory is not the engine's."""
    command = [sys.executable, "-m", "flashmm_engine.engine.bench_model"]
    command += [str(root / "models"), registry_url, "bench", stage, str(seed)]
    done = await asyncio.to_thread(subprocess.run, command, capture_output=True, check=False)
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace")[-2000:]
        raise CommandFailed(f"exporting the bench model failed (exit {done.returncode}): {tail}")


async def _started(runtime: EngineRuntime, task: asyncio.Task[None]) -> None:
    """Until the engine has started; the engine's own error if it stopped first (not a bare timeout)."""
    started = asyncio.get_running_loop().create_task(runtime.started.wait())
    done, _ = await asyncio.wait({task, started}, timeout=ENGINE_START_S, return_when=asyncio.FIRST_COMPLETED)
    started.cancel()
    if task in done:
        task.result()  # raises what stopped the engine
        raise CommandFailed("the engine stopped before it started quoting")
    if started not in done:
        raise CommandFailed(f"the engine did not start within {ENGINE_START_S:.0f} s")


def _merge(stats: list[RuntimeStats], name: str) -> Samples:
    merged = Samples(cap=10_000_000)
    for s in stats:
        merged.extend(getattr(s, name))
    return merged


@dataclass(frozen=True)
class BenchTelemetry:
    """Issue 11's variant: the engine's operations parts on while it is measured."""

    redis_url: str | None = None
    """Redis hot state (and the model stream) at this URL."""
    influx_url: str | None = None
    """InfluxDB 2.x write API (e.g. victoria-metrics on loopback), points batched at 1 Hz."""
    scrape_hz: float = 0.0
    """`GET /metrics` on the control API this often, as Prometheus would (0: never)."""


async def _scrape(port: int, hz: float, stop: asyncio.Event, counts: dict[str, int]) -> None:
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            try:
                async with session.get(f"http://127.0.0.1:{port}/metrics") as resp:
                    await resp.read()
                    counts["ok" if resp.status == 200 else "failed"] += 1
            except (aiohttp.ClientError, OSError) as exc:
                counts["failed"] += 1
                log.warning("metrics scrape failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1 / hz)


async def run_bench(
    n_markets: int,
    seconds: float,
    hz: float,
    feed_rate: int,
    shadow: bool = False,
    telemetry: BenchTelemetry | None = None,
) -> dict[str, Any]:
    ops = telemetry or BenchTelemetry()
    with tempfile.TemporaryDirectory(prefix="flashmm-bench-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        registry_url = f"sqlite:///{root / 'registry.db'}"
        await _export_model(root, registry_url, "production", SEED)
        if shadow:  # a second version, validated: the shadow challenger's default
            await _export_model(root, registry_url, "validated", SHADOW_SEED)
        per_market = feed_rate / n_markets / BOOK_EVENTS_PER_AGENT_EVENT
        urls = await start_sim_venues(stack, n_markets, per_market, root)
        settings = Settings(
            engine=EngineSettings(
                instance_id="bench",
                markets=list(urls),
                sim_urls=urls,
                cycle_hz=hz,
                ledger_url=SecretStr(f"sqlite:///{root / 'ledger.db'}"),
                model_name="bench",
            ),
            sim=SimSettings(api_keys={"mm": SecretStr(VENUE_KEY)}),
            database=DatabaseSettings(url=SecretStr(registry_url)),
            telemetry=TelemetrySettings(
                log_level="WARNING",
                influx_url=SecretStr(ops.influx_url) if ops.influx_url else None,
                influx_token=SecretStr("bench") if ops.influx_url else None,
            ),
            redis=RedisSettings(url=SecretStr(ops.redis_url) if ops.redis_url else None),
            recorder=RecorderSettings(directory=root / "raw"),  # recorded like a live run, then deleted
            reload=ReloadSettings(shadow=shadow),
            control=ControlSettings(port=0),  # any free port: a bench beside a running engine still starts
        )
        runtime = EngineRuntime(settings, list(urls))
        stop = asyncio.Event()
        task = asyncio.get_running_loop().create_task(runtime.run(stop))
        await _started(runtime, task)
        scrapes = {"ok": 0, "failed": 0}
        scraper = None
        if ops.scrape_hz > 0 and runtime.control is not None and runtime.control.port is not None:
            scrape = _scrape(runtime.control.port, ops.scrape_hz, stop, scrapes)
            scraper = asyncio.get_running_loop().create_task(scrape)
        await asyncio.sleep(WARMUP_S)
        for runner in runtime.runners:
            runner.stats = RuntimeStats()
        started = time.monotonic()
        await asyncio.sleep(seconds)
        elapsed = time.monotonic() - started
        stats = [r.stats for r in runtime.runners]
        rss = rss_mb()
        shadow_status = runtime.model_status().shadow
        telemetry_status = runtime.telemetry.status()
        stop.set()
        await task
        if scraper is not None:
            await scraper
        report = _report(stats, n_markets, elapsed, rss, [r.core.metrics.fills for r in runtime.runners])
        report["telemetry"] = {
            "redis": ops.redis_url is not None,
            "influx": ops.influx_url is not None,
            "metrics_scrapes": scrapes,
            "status": asdict(telemetry_status),
        }
        if shadow_status is not None:
            report["shadow"] = {
                "version": shadow_status.version,
                "predictions": shadow_status.predictions,
                "skipped_over_budget": shadow_status.skipped_over_budget,
                "rows_written": shadow_status.rows_written,
            }
        return report


def _report(
    stats: list[RuntimeStats], n_markets: int, elapsed: float, rss: float, fills: list[int]
) -> dict[str, Any]:
    cycle, t2o = _merge(stats, "cycle_ns"), _merge(stats, "tick_to_order_ns")
    c2o = _merge(stats, "cycle_to_order_ns")
    inference, jitter = _merge(stats, "inference_ns"), _merge(stats, "jitter_ns")
    t2o_p99 = [s.tick_to_order_ns.percentile_us(99) for s in stats]

    def r(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    jitter_p99 = jitter.percentile_us(99)
    return {
        "markets": n_markets,
        "seconds": round(elapsed, 2),
        "cycles": sum(s.cycles for s in stats),
        "missed_cycles": sum(s.missed_cycles for s in stats),
        "cycle_us": {
            "p50": r(cycle.percentile_us(50)),
            "p99": r(cycle.percentile_us(99)),
            "max": r(cycle.max_us()),
        },
        "tick_to_order_us": {
            "p50": r(t2o.percentile_us(50)),
            "p99": r(t2o.percentile_us(99)),
            "worst_market_p99": r(max((v for v in t2o_p99 if v is not None), default=None)),
            "batches": len(t2o),
        },
        "cycle_to_order_us": {"p50": r(c2o.percentile_us(50)), "p99": r(c2o.percentile_us(99))},
        "inference_us": {"p99": r(inference.percentile_us(99)), "calls": len(inference)},
        "cadence_jitter_ms": {"p99": None if jitter_p99 is None else round(jitter_p99 / 1000, 3)},
        "rss_mb": round(rss, 1),
        "feed_book_msgs_per_s": round(sum(s.book_messages for s in stats) / elapsed),
        "feed_msgs_per_s": round(sum(s.market_messages for s in stats) / elapsed),
        "fills": sum(fills),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
