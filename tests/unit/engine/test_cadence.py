"""The cycle grid: ticks land on multiples of the period, an overrun skips whole grid points and counts
them, and the rate is bounded to 1-20 Hz. Driven by a fake clock, so nothing depends on machine speed."""

from __future__ import annotations

import asyncio

import pytest

from flashmm_engine.engine.cadence import Tick, grid_ticks, period_ns


async def test_ticks_stay_on_the_grid_and_overruns_are_counted_as_missed() -> None:
    clock = [1_050]

    def now() -> int:
        clock[0] += 1  # the fake clock moves a nanosecond per reading, so waiting on it terminates
        return clock[0]

    stop = asyncio.Event()
    ticks: list[Tick] = []
    work = iter([10, 250, 10])  # where each cycle leaves the clock, past its grid time
    async for tick in grid_ticks(100, stop, now):
        ticks.append(tick)
        step = next(work, None)
        if step is None:
            stop.set()
        else:
            clock[0] = tick.grid_ns + step
    assert [(t.grid_ns, t.missed) for t in ticks] == [(1_100, 0), (1_200, 0), (1_400, 1), (1_500, 0)]
    assert all(0 <= t.woke_ns - t.grid_ns < 100 for t in ticks)


@pytest.mark.parametrize("hz", [0.5, 21.0, 0.0])
def test_the_cycle_rate_is_bounded(hz: float) -> None:
    with pytest.raises(ValueError, match="1-20 Hz"):
        period_ns(hz)


def test_five_hertz_is_a_200_ms_period() -> None:
    assert period_ns(5.0) == 200_000_000
