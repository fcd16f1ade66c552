"""Volatility of the mid in ticks per sqrt(second), from the mids the quoter sees each cycle.

Time-weighted EWM: sum of squared mid changes over elapsed time, both decayed with the same half-life, so
irregular cycles (or a paused feed) do not bias it."""

from __future__ import annotations

import math

from flashmm_engine.types import NS_PER_S


class MidVolatility:
    def __init__(self, half_life_s: float = 30.0) -> None:
        if half_life_s <= 0:
            raise ValueError(f"volatility half-life {half_life_s}: expected > 0")
        self._rate = math.log(2) / half_life_s
        self._sq = 0.0
        self._time = 0.0
        self._last: tuple[int, int] | None = None

    def update(self, ts_ns: int, mid_x2: int) -> None:
        last = self._last
        self._last = (ts_ns, mid_x2)
        if last is None or ts_ns <= last[0]:
            return
        dt = (ts_ns - last[0]) / NS_PER_S
        decay = math.exp(-self._rate * dt)
        move = (mid_x2 - last[1]) / 2
        self._sq = self._sq * decay + move * move
        self._time = self._time * decay + dt

    def sigma(self) -> float | None:
        """Ticks per sqrt(second), or None before two mids were seen."""
        return math.sqrt(self._sq / self._time) if self._time > 0 else None
