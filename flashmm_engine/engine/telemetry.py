"""The engine's telemetry, each part on only when configured: Redis hot state, InfluxDB points, Sentry and raw
recording. Their counters are attributes (for status and Prometheus) and `status()` is the snapshot's
`telemetry` section; nothing here runs inside a quote cycle.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from flashmm_engine import __version__
from flashmm_engine.config.settings import Settings
from flashmm_engine.engine.hot_state import HotStatePublisher
from flashmm_engine.engine.recording import EngineRecorder
from flashmm_engine.service.tasks import TaskTracker
from flashmm_engine.telemetry.influx import InfluxWriter
from flashmm_engine.telemetry.redact import SecretScrubber, secret_values
from flashmm_engine.telemetry.sentry import SentryReporter
from flashmm_engine.telemetry.status import TelemetryStatus

if TYPE_CHECKING:
    from flashmm_engine.engine.market_task import MarketRunner

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 3.0
"""Closing InfluxDB (last flush) and Redis at shutdown takes at most this."""


class EngineTelemetry:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runners: list[MarketRunner] = []
        self.scrubber = SecretScrubber(secret_values(settings))
        engine, redis, tele = settings.engine, settings.redis, settings.telemetry
        self.tasks = TaskTracker("telemetry")
        self.sentry = (
            SentryReporter(tele.sentry_dsn, self.scrubber, tele.sentry_environment, __version__)
            if tele.sentry_dsn is not None
            else None
        )
        self.hot_state = (
            HotStatePublisher(
                redis.url, engine.instance_id, self._markets, 1.0 / redis.hot_state_hz, redis.hot_state_ttl_s
            )
            if redis.url is not None
            else None
        )
        self.influx = (
            InfluxWriter(
                tele.influx_url,
                tele.influx_token,
                tele.influx_org,
                tele.influx_bucket,
                engine.instance_id,
                self._markets,
                tele.influx_interval_s,
                tele.influx_queue_max,
                self.scrubber,
            )
            if tele.influx_url is not None
            else None
        )
        recorder = settings.recorder
        self.recorder = EngineRecorder(recorder.directory, engine.venue) if recorder.enabled else None

    def _markets(self) -> Sequence[MarketRunner]:
        return self.runners

    @property
    def degraded(self) -> bool:
        return self.hot_state is not None and self.hot_state.degraded

    def start(self, stop: asyncio.Event) -> None:
        if self.hot_state is not None:
            self.tasks.spawn(self.hot_state.run(stop), "hot-state")
        if self.influx is not None:
            self.tasks.spawn(self.influx.run(stop), "influx")

    async def close(self) -> None:
        await self.tasks.shutdown(CLOSE_TIMEOUT_S)
        for part in (self.influx, self.hot_state):
            if part is None:
                continue
            try:
                await asyncio.wait_for(part.close(), CLOSE_TIMEOUT_S)
            except TimeoutError:
                log.warning("%s did not close within %.1fs", type(part).__name__, CLOSE_TIMEOUT_S)
        if self.sentry is not None:
            await asyncio.to_thread(self.sentry.close)

    def close_recording(self) -> None:
        """After the venue connections are closed, so every frame received is in a segment."""
        if self.recorder is not None:
            self.recorder.close()

    def status(self) -> TelemetryStatus:
        return TelemetryStatus(
            self.degraded,
            self.hot_state.status() if self.hot_state is not None else None,
            self.influx.status() if self.influx is not None else None,
            self.sentry.status() if self.sentry is not None else None,
            self.recorder.status() if self.recorder is not None else None,
        )
