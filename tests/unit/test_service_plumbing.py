import asyncio
import logging
import random

import pytest

from flashmm_engine.service.backoff import Backoff
from flashmm_engine.service.clock import ManualClock
from flashmm_engine.service.tasks import TaskTracker
from flashmm_engine.telemetry.bad_input import BadInputCounter


def test_backoff_is_jittered_below_an_exponential_cap() -> None:
    backoff = Backoff(base_s=0.1, factor=2.0, max_s=1.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(8)]
    caps = [min(1.0, 0.1 * 2**i) for i in range(8)]
    assert all(0.0 <= d <= c for d, c in zip(delays, caps, strict=True))
    assert len(set(delays)) == len(delays)
    backoff.reset()
    assert backoff.next_delay() <= 0.1


def test_manual_clock_refuses_to_go_backwards() -> None:
    clock = ManualClock(100)
    clock.advance_to(150)
    assert clock.now_ns() == 150
    with pytest.raises(ValueError, match="backwards"):
        clock.advance_to(149)


async def test_task_tracker_records_failures_and_cancels_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    tracker = TaskTracker("test")

    async def boom() -> None:
        raise RuntimeError("kaput")

    forever = tracker.spawn(asyncio.sleep(3600), "sleeper")
    tracker.spawn(boom(), "boom")
    await asyncio.sleep(0.01)
    assert [name for name, _ in tracker.failures] == ["test:boom"]
    assert "test:boom failed" in caplog.text
    await tracker.shutdown(timeout_s=1.0)
    assert forever.cancelled()
    assert tracker.running == 0


def test_bad_input_is_always_counted_but_logged_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    counter = BadInputCounter(logging.getLogger("t"), interval_s=60.0, monotonic=lambda: now[0])
    with caplog.at_level(logging.WARNING):
        for _ in range(100):
            counter.record("json", "bad line")
        now[0] = 61.0
        counter.record("json", "bad line")
        counter.record("schema", "missing field")
    assert counter.counts == {"json": 101, "schema": 1}
    assert counter.total == 102
    assert len(caplog.records) == 3
