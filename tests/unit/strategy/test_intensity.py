"""Calibration recovers A and k from synthetic trades drawn from a known intensity A * exp(-k * depth)."""

from __future__ import annotations

import random

import pytest

from flashmm_engine.strategy.intensity import IntensityCalibrator
from flashmm_engine.types import NS_PER_S, Side, Trade


def synthetic_trades(a: float, k: float, seconds: float, seed: int, mid: int = 2000) -> list[Trade]:
    """Trades arriving as a Poisson process of rate A; each reaches floor(Exp(k)) ticks beyond the mid, so
    the rate of trades reaching depth d (an integer) is exactly A * exp(-k d)."""
    rng = random.Random(seed)
    trades: list[Trade] = []
    t = 0.0
    while True:
        t += rng.expovariate(a)
        if t >= seconds:
            return trades
        depth = int(rng.expovariate(k))
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        price = mid + depth if side is Side.BUY else mid - depth
        trades.append(Trade(0, round(t * NS_PER_S), "M", price, 1, side, len(trades)))


@pytest.mark.parametrize(("a", "k", "seed"), [(5.0, 0.4, 1), (2.0, 1.2, 2), (10.0, 0.15, 3)])
def test_calibration_recovers_a_and_k_within_20_percent(a: float, k: float, seed: int) -> None:
    seconds = 600.0
    calibrator = IntensityCalibrator(window_ns=round(seconds * NS_PER_S) + 1)
    for trade in synthetic_trades(a, k, seconds, seed):
        calibrator.on_trade(trade, 2 * 2000)
    fitted = calibrator.fit(round(seconds * NS_PER_S))
    assert fitted is not None
    assert fitted.a_per_s == pytest.approx(a, rel=0.2)
    assert fitted.k_per_tick == pytest.approx(k, rel=0.2)


def test_too_few_trades_or_no_decay_gives_no_fit() -> None:
    calibrator = IntensityCalibrator(min_trades=100)
    for trade in synthetic_trades(1.0, 0.5, 50.0, seed=4):
        calibrator.on_trade(trade, 4000)
    assert calibrator.fit(50 * NS_PER_S) is None  # ~50 trades
    flat = IntensityCalibrator(min_trades=10)
    for i in range(200):
        flat.add(i * NS_PER_S, 0.0)  # every trade at the same depth: nothing to fit a decay to
    assert flat.fit(200 * NS_PER_S) is None


def test_the_window_forgets_old_trades() -> None:
    calibrator = IntensityCalibrator(window_ns=100 * NS_PER_S, min_trades=50)
    for trade in synthetic_trades(5.0, 0.4, 100.0, seed=5):
        calibrator.on_trade(trade, 4000)
    assert calibrator.fit(100 * NS_PER_S) is not None
    assert calibrator.fit(300 * NS_PER_S) is None  # all of them fell out of the window
