"""Synthetic sim data for the lifecycle tests: the sim venue's seeded synthetic market, published by the
venue server's own market-data code on a simulated clock and recorded by the engine's own recorder, so the
segments are what `flashmm engine run` records from `flashmm venue sim` (same seed, same files).

The session runs `minutes` from `start`; starting a few minutes before an hour makes two hourly segments,
the second opening with the recorder's depth snapshot."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from flashmm_engine.config.sim import SimSettings, SyntheticSettings
from flashmm_engine.engine.recording import SIM_VENUE, EngineRecorder
from flashmm_engine.types import NS_PER_S
from flashmm_engine.venues.sim.drivers import SyntheticDriver
from flashmm_engine.venues.sim.exchange import EngineExchange
from flashmm_engine.venues.sim.from_settings import cash_sim_market, sim_spec, synthetic_params
from flashmm_engine.venues.sim.matching import MatchingEngine
from flashmm_engine.venues.sim.server import Connection, SimVenueServer
from flashmm_engine.venues.sim.synthetic import SyntheticFlow

SEED = 20240809
START = datetime(2024, 8, 9, 10, 58, tzinfo=UTC)
MINUTES = 4.0
MARKET = "sim-ethusd"
"""The partition of the sim venue's SIM:ETHUSD."""
HOURS = ("2024-08-09-10:00", "2024-08-09-11:00")
DAY = "2024-08-09"


@dataclass(frozen=True)
class SyntheticSession:
    segments: list[Path]
    frames: int
    trades: int


class _Tap:
    """Stands where the engine's websocket would: every frame the venue sends it goes to the recorder."""

    def __init__(self, recorder: EngineRecorder, server: SimVenueServer) -> None:
        self.recorder, self.server = recorder, server
        self.frames = self.trades = 0

    def drain(self, connection: Connection) -> None:
        while not connection.outbox.empty():
            raw = connection.outbox.get_nowait()
            message = orjson.loads(raw)
            self.recorder.tap(self.server.now(), message["market"], raw, self.server.spec)
            self.frames += 1
            self.trades += message["type"] == "trade"


def record_synthetic_session(
    raw_dir: Path, seed: int = SEED, start: datetime = START, minutes: float = MINUTES
) -> SyntheticSession:
    sim = SimSettings(synthetic=SyntheticSettings(seed=seed))
    spec = sim_spec(sim)
    engine = MatchingEngine([cash_sim_market(sim)])
    now = [int(start.timestamp()) * NS_PER_S]
    flow = SyntheticFlow(engine, spec.symbol, synthetic_params(sim), seed, now[0])
    driver = SyntheticDriver(flow, EngineExchange(engine, spec.symbol))
    server = SimVenueServer(sim, engine, driver, spec, lambda: now[0])
    recorder = EngineRecorder(raw_dir, SIM_VENUE)
    tap = _Tap(recorder, server)
    connection = Connection(ws=None)  # type: ignore[arg-type]
    connection.outbox = asyncio.Queue()
    server._connections.add(connection)
    server.publish_market(now[0])  # the seeded book, as a running venue has it when an engine connects
    server.subscribe(connection)
    tap.drain(connection)
    end = now[0] + int(timedelta(minutes=minutes).total_seconds() * NS_PER_S)
    while (due := driver.next_time()) is not None and due <= end:
        now[0] = due
        while (due := driver.next_time()) is not None and due <= now[0]:
            server.dispatch(driver.step())
        server.publish_market(now[0])
        tap.drain(connection)
    recorder.close()
    return SyntheticSession(recorder.segments, tap.frames, tap.trades)
