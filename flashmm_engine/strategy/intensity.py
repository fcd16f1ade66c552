"""Online calibration of the fill intensity lambda(delta) = A * exp(-k * delta).

Each public trade is recorded with its depth: how far from the mid (just before the trade) it reached, in
ticks, on the side it took. An order of ours resting `delta` ticks from the mid would have been reached by
every trade at depth >= delta, so the count of such trades per second estimates lambda(delta). A and k come
from a least-squares line through log lambda at the observed depths (the method of hftbacktest's GLFT
example and Hummingbot's trading-intensity indicator; this is FlashMM's own code).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from flashmm_engine.types import NS_PER_S, Side, Trade


@dataclass(frozen=True, slots=True)
class Intensity:
    a_per_s: float
    """Trades per second reaching depth 0."""
    k_per_tick: float
    trades: int


class IntensityCalibrator:
    def __init__(
        self,
        window_ns: int = 600 * NS_PER_S,
        min_trades: int = 100,
        min_count: int = 5,
        max_samples: int = 50_000,
    ) -> None:
        if min_trades < 2 or min_count < 1 or window_ns <= 0:
            raise ValueError("calibration needs a positive window, min_trades >= 2 and min_count >= 1")
        self.window_ns = window_ns
        self.min_trades = min_trades
        self.min_count = min_count
        self._depths: deque[tuple[int, float]] = deque(maxlen=max_samples)
        self._first_ts: int | None = None

    def on_trade(self, trade: Trade, mid_x2: int | None) -> None:
        if mid_x2 is None:
            return
        if self._first_ts is None:
            self._first_ts = trade.ts_local
        offset_x2 = 2 * trade.price - mid_x2
        depth_x2 = offset_x2 if trade.aggressor_side is Side.BUY else -offset_x2
        self.add(trade.ts_local, max(depth_x2, 0) / 2)

    def add(self, ts_ns: int, depth_ticks: float) -> None:
        if self._first_ts is None:
            self._first_ts = ts_ns
        self._depths.append((ts_ns, depth_ticks))

    def fit(self, now_ns: int) -> Intensity | None:
        """A and k from the trades of the last window, or None while there are too few to fit."""
        depths = self._depths
        while depths and depths[0][0] <= now_ns - self.window_ns:
            depths.popleft()
        if len(depths) < self.min_trades or self._first_ts is None:
            return None
        span_s = min(now_ns - self._first_ts, self.window_ns) / NS_PER_S
        if span_s <= 0:
            return None
        values = sorted(d for _, d in depths)
        points = _tail_counts(values, self.min_count)
        if len(points) < 2:
            return None
        xs = [d for d, _ in points]
        ys = [math.log(c / span_s) for _, c in points]
        slope, intercept = _least_squares(xs, ys)
        if not slope < 0:
            return None
        return Intensity(math.exp(intercept), -slope, len(values))


def _tail_counts(sorted_depths: list[float], min_count: int) -> list[tuple[float, int]]:
    """(depth, number of trades at or beyond it) at each distinct observed depth with enough trades."""
    n = len(sorted_depths)
    points: list[tuple[float, int]] = []
    i = 0
    while i < n:
        depth = sorted_depths[i]
        count = n - i
        if count < min_count:
            break
        points.append((depth, count))
        while i < n and sorted_depths[i] == depth:
            i += 1
    return points


def _least_squares(xs: list[float], ys: list[float]) -> tuple[float, float]:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx if sxx > 0 else 0.0
    return slope, my - slope * mx
