"""`flashmm bench feed FILE`: time the whole feed pipeline (read, parse, sync, book apply, normalize)."""

from __future__ import annotations

import logging
import resource
import statistics
import time
from pathlib import Path

import click

from flashmm_engine.cli_support import emit, start_command
from flashmm_engine.errors import CommandFailed
from flashmm_engine.marketdata.normalize import detect_market, normalize_capture
from flashmm_engine.venues.binance.markets import as_market

log = logging.getLogger(__name__)

KIB_PER_MIB = 1024


@click.command("feed")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--market", type=click.Choice(["spot", "usdm"]), default=None, help="Detected if omitted.")
@click.option(
    "--repeat", type=click.IntRange(1, 20), default=3, show_default=True, help="Runs; reports the median."
)
@click.option(
    "--per-message",
    is_flag=True,
    help="Feed lines one by one as the live connector does, instead of the batch path (for comparison).",
)
def bench_feed(file: Path, market: str | None, repeat: int, per_message: bool) -> None:
    """Normalize FILE end to end REPEAT times in this process; print the median throughput."""
    start_command()
    resolved = as_market(market) if market else detect_market(file)
    runs: list[float] = []
    cpu_runs: list[float] = []
    messages = 0
    for run in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        _, stats = normalize_capture(file, resolved, batch=not per_message)
        runs.append(time.perf_counter() - started)
        cpu_runs.append(time.process_time() - cpu_started)
        messages = stats.messages
        log.info("run %d/%d: %d messages in %.3fs", run + 1, repeat, messages, runs[-1])
    seconds = statistics.median(runs)
    # ru_maxrss is in KiB on Linux
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIB_PER_MIB
    result = {
        "messages": messages,
        "seconds": round(seconds, 4),
        "msgs_per_s": round(messages / seconds),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "runs_s": [round(r, 4) for r in runs],
        # CPU time of this process: the same work without the wait for a shared, busy CPU
        "cpu_msgs_per_s": round(messages / statistics.median(cpu_runs)),
        "market": resolved,
        "path": "per-message" if per_message else "batch",
    }
    if not messages:
        raise CommandFailed(f"{file}: no message read; nothing to time")
    emit(result)
