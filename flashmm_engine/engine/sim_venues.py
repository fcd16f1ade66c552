"""Synthetic sim venue processes for the engine's benchmark and soak: one per market, each on a free
loopback port, stopped with the caller's ExitStack."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import orjson

from flashmm_engine.errors import CommandFailed

VENUE_START_S = 180.0
VENUE_STOP_S = 10.0
VENUE_KEY = "bench-key"
"""The API key every synthetic venue accepts for account "mm"."""


def _venue_process(index: int, events_per_s: float, cwd: Path) -> tuple[subprocess.Popen[bytes], str]:
    symbol = f"BENCH{index}:ETHUSD"
    env = {
        **os.environ,
        "FLASHMM_SIM__PORT": "0",
        "FLASHMM_SIM__SYMBOL": symbol,
        "FLASHMM_SIM__API_KEYS": orjson.dumps({"mm": VENUE_KEY}).decode(),
        "FLASHMM_SIM__SYNTHETIC__EVENT_RATE_PER_S": str(events_per_s),
        "FLASHMM_SIM__SYNTHETIC__SEED": str(100 + index),
        "FLASHMM_TELEMETRY__LOG_LEVEL": "WARNING",
    }
    flashmm = Path(sys.executable).parent / "flashmm"
    proc = subprocess.Popen(
        [str(flashmm), "venue", "sim"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=cwd
    )
    return proc, symbol


def _read_url(proc: subprocess.Popen[bytes]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise CommandFailed("a synthetic sim venue process exited before listening")
    url: str = orjson.loads(line)["url"]
    return url


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=VENUE_STOP_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def start_sim_venues(
    stack: ExitStack, n_markets: int, events_per_s_each: float, cwd: Path
) -> dict[str, str]:
    """Start `n_markets` synthetic venues and wait for each to listen: {symbol: ws url}."""
    procs = [_venue_process(i, events_per_s_each, cwd) for i in range(n_markets)]
    for proc, _ in procs:
        stack.callback(_stop, proc)
    return {
        symbol: await asyncio.wait_for(asyncio.to_thread(_read_url, proc), VENUE_START_S)
        for proc, symbol in procs
    }


def rss_mb() -> float:
    """This process's resident set size in MiB (nan where /proc is not available)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
