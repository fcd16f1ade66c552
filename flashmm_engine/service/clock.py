"""Clocks are injected so that live trading, paper trading and backtests share the same code."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now_ns(self) -> int: ...


class WallClock:
    """Real time, for the live engine."""

    def now_ns(self) -> int:
        return time.time_ns()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualClock:
    """Simulated time advanced explicitly by a backtest or a test."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns

    def now_ns(self) -> int:
        return self._now

    def advance_to(self, ts_ns: int) -> None:
        if ts_ns < self._now:
            raise ValueError(f"clock cannot go backwards: {ts_ns} < {self._now}")
        self._now = ts_ns
