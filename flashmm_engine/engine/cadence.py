"""Cycles on a time grid: cycle k starts at k x period (epoch aligned), never "sleep after work".

When a cycle starts a whole period or more after its grid time, the grid points it overran are skipped
and counted as missed, so a slow cycle never makes the next ones drift.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from flashmm_engine.types import NS_PER_S

MIN_HZ = 1.0
MAX_HZ = 20.0


@dataclass(frozen=True, slots=True)
class Tick:
    grid_ns: int
    """The grid time this cycle belongs to (ns since the epoch)."""
    woke_ns: int
    """When the cycle actually started; woke_ns - grid_ns is the cadence jitter."""
    missed: int
    """Grid points skipped just before this tick because the cycle before overran them."""


def period_ns(hz: float) -> int:
    if not MIN_HZ <= hz <= MAX_HZ:
        raise ValueError(f"cycle rate {hz} Hz: expected {MIN_HZ:g}-{MAX_HZ:g} Hz")
    return round(NS_PER_S / hz)


async def grid_ticks(
    period: int, stop: asyncio.Event, now_ns: Callable[[], int] = time.time_ns
) -> AsyncIterator[Tick]:
    """Yield one Tick per grid point until `stop` is set."""
    next_grid = (now_ns() // period + 1) * period
    while not stop.is_set():
        wait = next_grid - now_ns()
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait / NS_PER_S)
            if stop.is_set():
                return
        woke = now_ns()
        while woke < next_grid:  # the event loop's timer may fire a hair early
            woke = now_ns()
        late = (woke - next_grid) // period
        next_grid += late * period
        yield Tick(next_grid, woke, late)
        next_grid += period
