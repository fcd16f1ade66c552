"""A sim venue asked for more flow than its CPU can generate falls behind its clock; it must still yield to
the event loop (accept connections, answer requests) instead of catching up forever."""

from __future__ import annotations

import asyncio

from pydantic import SecretStr

from flashmm_engine.config.sim import SimSettings
from flashmm_engine.types import Trade
from flashmm_engine.venues.sim.cli import build_venue
from flashmm_engine.venues.sim.matching import Events
from flashmm_engine.venues.sim.server import DRIVE_SLICE_STEPS

RUNAWAY = 100_000
"""Steps after which the backlog driver gives up: without yielding, the drive loop would reach it."""


class BacklogDriver:
    """Every flow event is already due: an endless backlog."""

    def __init__(self) -> None:
        self.steps = 0

    def next_time(self) -> int:
        return 0

    def step(self) -> Events:
        self.steps += 1
        if self.steps >= RUNAWAY:
            raise RuntimeError("the drive loop never yielded")
        return []

    def depth(self, levels: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        return [(100, 1)], [(101, 1)]

    def take_trades(self) -> list[Trade]:
        return []


async def test_a_venue_behind_its_clock_still_yields_every_slice() -> None:
    _, _, _, server = build_venue(SimSettings(api_keys={"mm": SecretStr("k")}))
    driver = BacklogDriver()
    server.driver = driver
    task = asyncio.get_running_loop().create_task(server._drive())
    seen = []
    for _ in range(5):
        await asyncio.sleep(0)
        seen.append(driver.steps)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert 0 < seen[-1] <= 5 * DRIVE_SLICE_STEPS, seen
    assert seen == sorted(seen) and len(set(seen)) > 1, seen
