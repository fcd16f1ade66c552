"""`flashmm soak`: the engine with M markets against M sim venue processes for N minutes, sampled for slow
leaks.

Every interval one JSON line: the engine process's RSS, open file descriptors, asyncio tasks, and the
ledger's size (rows of orders, fills and events, and bytes on disk). At the end one JSON object with the
growth per hour fitted (least squares) over the samples after the warm-up: RSS in % of its post-warm-up
level, file descriptors and tasks in counts; the ranges after warm-up say whether they stayed flat.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import SecretStr

from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.config.services import DatabaseSettings, TelemetrySettings
from flashmm_engine.config.settings import Settings
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.engine.runtime import EngineRuntime
from flashmm_engine.engine.sim_venues import VENUE_KEY, rss_mb, start_sim_venues
from flashmm_engine.service.signals import install_stop_signals

ENGINE_START_S = 300.0
SECONDS_PER_HOUR = 3600.0
LEDGER_TABLES = ("ledger_orders", "ledger_fills", "ledger_events")


@dataclass(frozen=True, slots=True)
class SoakSample:
    minute: float
    rss_mb: float
    fds: int
    tasks: int
    ledger_orders: int
    ledger_fills: int
    ledger_events: int
    ledger_bytes: int
    cycles: int
    missed_cycles: int


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def ledger_size(path: Path) -> tuple[list[int], int]:
    """Rows per LEDGER_TABLES table (read-only connection) and bytes of the database with its WAL."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        rows = [int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in LEDGER_TABLES]
    finally:
        conn.close()
    files = [path, path.with_name(path.name + "-wal")]
    return rows, sum(f.stat().st_size for f in files if f.exists())


def slope_per_hour(minutes: list[float], values: list[float]) -> float | None:
    if len(minutes) < 2 or max(minutes) == min(minutes):
        return None
    slope_per_min = float(np.polyfit(np.asarray(minutes), np.asarray(values, dtype=float), 1)[0])
    return slope_per_min * 60.0


def growth(samples: list[SoakSample], warmup_minutes: float) -> dict[str, Any]:
    """Growth per hour after the warm-up (None where fewer than two samples follow it)."""
    after = [s for s in samples if s.minute >= warmup_minutes]
    minutes = [s.minute for s in after]
    rss_slope = slope_per_hour(minutes, [s.rss_mb for s in after])
    fds_slope = slope_per_hour(minutes, [s.fds for s in after])
    tasks_slope = slope_per_hour(minutes, [s.tasks for s in after])

    def r(value: float | None, digits: int = 3) -> float | None:
        return None if value is None else round(value, digits)

    base = after[0].rss_mb if after else None
    return {
        "samples_after_warmup": len(after),
        "rss_mb": {"after_warmup": r(base, 1), "end": r(after[-1].rss_mb, 1) if after else None},
        "rss_pct_per_h": r(None if rss_slope is None or not base else rss_slope / base * 100),
        "fds_per_h": r(fds_slope),
        "tasks_per_h": r(tasks_slope),
        "fds_range": [min(s.fds for s in after), max(s.fds for s in after)] if after else None,
        "tasks_range": [min(s.tasks for s in after), max(s.tasks for s in after)] if after else None,
    }


async def run_soak(
    minutes: float,
    n_markets: int,
    hz: float,
    feed_rate: int,
    warmup_minutes: float,
    interval_s: float,
    emit: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="flashmm-soak-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        urls = await start_sim_venues(stack, n_markets, feed_rate / n_markets, root)
        ledger_path = root / "ledger.db"
        settings = Settings(
            engine=EngineSettings(
                instance_id="soak",
                markets=list(urls),
                sim_urls=urls,
                cycle_hz=hz,
                ledger_url=SecretStr(f"sqlite:///{ledger_path}"),
                fill_journal_dir=root / "fill-journal",
            ),
            sim=SimSettings(api_keys={"mm": SecretStr(VENUE_KEY)}),
            database=DatabaseSettings(url=SecretStr(f"sqlite:///{root / 'registry.db'}")),
            telemetry=TelemetrySettings(log_level="WARNING"),
        )
        settings.control.port = 0
        runtime = EngineRuntime(settings, list(urls))
        stop = asyncio.Event()
        task = asyncio.get_running_loop().create_task(runtime.run(stop))
        await asyncio.wait_for(runtime.started.wait(), ENGINE_START_S)
        interrupted = asyncio.Event()
        install_stop_signals(interrupted)  # SIGTERM ends the soak early, still stopping every venue
        samples: list[SoakSample] = []
        started = time.monotonic()
        end = started + minutes * 60.0
        next_at = started
        while True:
            next_at += interval_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(interrupted.wait(), max(0.0, min(next_at, end) - time.monotonic()))
            rows, size = await asyncio.to_thread(ledger_size, ledger_path)
            stats = [r.stats for r in runtime.runners]
            sample = SoakSample(
                round((time.monotonic() - started) / 60.0, 3),
                round(rss_mb(), 1),
                open_fds(),
                len(asyncio.all_tasks()),
                rows[0],
                rows[1],
                rows[2],
                size,
                sum(s.cycles for s in stats),
                sum(s.missed_cycles for s in stats),
            )
            samples.append(sample)
            emit(asdict(sample))
            if time.monotonic() >= end - 1e-3 or interrupted.is_set():
                break
        states = sorted({r.core.state.state.value for r in runtime.runners})
        fills = sum(r.core.metrics.fills for r in runtime.runners)
        failures = len(runtime.tasks.failures) + sum(len(r.tasks.failures) for r in runtime.runners)
        stop.set()
        await task
    return {
        "minutes": samples[-1].minute if interrupted.is_set() else minutes,
        "interrupted": interrupted.is_set(),
        "markets": n_markets,
        "hz": hz,
        "warmup_minutes": warmup_minutes,
        "fills": fills,
        "states": states,
        "task_failures": failures,
        "growth_per_hour": growth(samples, warmup_minutes),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
