"""Time-windowed accumulators. All window sums are integers so they stay exact however long they run."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque

COMPACT_AFTER = 4096
"""Dropped-prefix length after which a history list is compacted (amortised O(1) trimming)."""


class MidHistory:
    """Mid changes (mid as bid+ask in ticks, an exact integer) with a prefix sum of squared log returns."""

    def __init__(self, keep_ns: int) -> None:
        self._keep_ns = keep_ns
        self._ts: list[int] = []
        self._mid_x2: list[int] = []
        self._cum_r2: list[float] = []
        self._start = 0

    @property
    def last(self) -> int | None:
        return self._mid_x2[-1] if self._mid_x2 else None

    @property
    def last_ts(self) -> int | None:
        return self._ts[-1] if self._ts else None

    def append(self, ts: int, mid_x2: int) -> float:
        """Record a new mid; returns its log return from the previous one in bps (0 for the first)."""
        ret = 0.0
        if self._mid_x2:
            ret = log_return_bps(mid_x2, self._mid_x2[-1])
        prev = self._cum_r2[-1] if self._cum_r2 else 0.0
        self._ts.append(ts)
        self._mid_x2.append(mid_x2)
        self._cum_r2.append(prev + ret * ret)
        return ret

    def _index_at(self, ts: int) -> int:
        """Index of the last entry at or before ts, or start-1 when there is none."""
        return bisect_right(self._ts, ts, lo=self._start) - 1

    def mid_at(self, ts: int) -> int | None:
        index = self._index_at(ts)
        if index < self._start:
            return self._mid_x2[self._start] if len(self._mid_x2) > self._start else None
        return self._mid_x2[index]

    def changes_since(self, ts: int) -> int:
        """Number of mid changes strictly after ts."""
        return len(self._ts) - 1 - max(self._index_at(ts), self._start - 1)

    def sum_sq_returns_since(self, ts: int) -> float:
        index = self._index_at(ts)
        if not self._cum_r2:
            return 0.0
        base = self._cum_r2[index] if index >= self._start else self._cum_r2[self._start]
        return max(self._cum_r2[-1] - base, 0.0)

    def trim(self, now: int) -> None:
        """Forget what no window can reach, keeping one entry at or before the oldest cut-off."""
        keep_from = self._index_at(now - self._keep_ns)
        if keep_from > self._start:
            self._start = keep_from
        if self._start > COMPACT_AFTER:
            del self._ts[: self._start], self._mid_x2[: self._start], self._cum_r2[: self._start]
            self._start = 0


class WindowSums:
    """Integer sums of fixed-width records over the trailing window (now - width, now]."""

    def __init__(self, width_ns: int, fields: int) -> None:
        self.width_ns = width_ns
        self._items: deque[tuple[int, tuple[int, ...]]] = deque()
        self.sums = [0] * fields

    def add(self, ts: int, values: tuple[int, ...]) -> None:
        self._items.append((ts, values))
        for i, value in enumerate(values):
            self.sums[i] += value

    def advance(self, now: int) -> None:
        cutoff = now - self.width_ns
        items = self._items
        while items and items[0][0] <= cutoff:
            _, values = items.popleft()
            for i, value in enumerate(values):
                self.sums[i] -= value


class EwmVariance:
    """Exponentially decayed sum of squared returns with a half-life in time, read as a rate per second."""

    def __init__(self, half_life_ns: int) -> None:
        self._half_life_ns = half_life_ns
        self._value = 0.0
        self._ts: int | None = None

    def _decayed(self, ts: int) -> float:
        if self._ts is None:
            return 0.0
        return self._value * math.exp2(-(ts - self._ts) / self._half_life_ns)

    def add(self, ts: int, squared: float) -> None:
        self._value = self._decayed(ts) + squared
        self._ts = ts

    def vol_per_sqrt_s(self, ts: int) -> float:
        # a decayed sum with half-life h weighs about h/ln2 of history
        return math.sqrt(self._decayed(ts) * math.log(2) / (self._half_life_ns / 1e9))


class DecayedMean:
    """Time-decayed mean of observations (each weighs 2^(-age / half-life)): a typical level, e.g. of
    top-of-book size or spread, that adapts to the instrument and the session."""

    def __init__(self, half_life_ns: int) -> None:
        self._half_life_ns = half_life_ns
        self._sum = 0.0
        self._weight = 0.0
        self._ts: int | None = None

    def add(self, ts: int, value: float) -> None:
        decay = math.exp2(-(ts - self._ts) / self._half_life_ns) if self._ts is not None else 0.0
        self._sum = self._sum * decay + value
        self._weight = self._weight * decay + 1.0
        self._ts = ts

    @property
    def value(self) -> float:
        """The mean (0 before any observation); decay cancels between sum and weight, so it needs no ts."""
        return self._sum / self._weight if self._weight > 0 else 0.0


def log_return_bps(new: int, old: int) -> float:
    if new <= 0 or old <= 0:
        return 0.0
    return math.log(new / old) * 1e4


def signed_log1p(value: float) -> float:
    return math.copysign(math.log1p(abs(value)), value)
