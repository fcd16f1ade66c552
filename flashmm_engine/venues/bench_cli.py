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
from flashmm_engine.marketdata.normalize import normalize
from flashmm_engine.venues.capture_cli import capture_options
from flashmm_engine.venues.captures import open_capture

log = logging.getLogger(__name__)

KIB_PER_MIB = 1024


@click.command("feed")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@capture_options
@click.option(
    "--repeat", type=click.IntRange(1, 20), default=3, show_default=True, help="Runs; reports the median."
)
@click.option(
    "--per-message",
    is_flag=True,
    help="Feed lines one by one as the live connector does, instead of the batch path (for comparison).",
)
def bench_feed(
    file: Path,
    market: str | None,
    symbol: str | None,
    exchange_info: Path | None,
    repeat: int,
    per_message: bool,
) -> None:
    """Normalize FILE end to end REPEAT times in this process; print the median throughput.

    Detection and the spec (read or inferred) are resolved once, before the timed runs, and timed apart."""
    start_command()
    started = time.perf_counter()
    source, info = open_capture(file, market, symbol, exchange_info)
    open_s = time.perf_counter() - started
    runs: list[float] = []
    cpu_runs: list[float] = []
    messages = 0
    for run in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        _, stats = normalize(source, info, batch=not per_message)
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
        "open_seconds": round(open_s, 4),
        **info.describe(),
        "path": "per-message" if per_message else "batch",
    }
    if not messages:
        raise CommandFailed(f"{file}: no message read; nothing to time")
    emit(result)
