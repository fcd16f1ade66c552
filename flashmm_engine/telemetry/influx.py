"""InfluxDB 2.x points: cycle figures, PnL, position and the last prediction per market, batched at 1 Hz.

A tracked task samples every market once per interval into a bounded queue (the oldest point is dropped when
it is full, and counted) and writes what is queued through influxdb-client's synchronous write API on a
dedicated thread, so the event loop (and the quote cycle) never waits for InfluxDB. A failed write is
counted and logged without the token; its points are kept for the next attempt within the queue's cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from flashmm_engine.engine.market_snapshot import cycle_figures, position, prediction
from flashmm_engine.telemetry.redact import SecretScrubber, redact_url

if TYPE_CHECKING:
    from influxdb_client.client.influxdb_client import InfluxDBClient

    from flashmm_engine.engine.market_task import MarketRunner

log = logging.getLogger(__name__)

WRITE_TIMEOUT_MS = 2_000
"""influxdb-client's HTTP timeout per write: a hung server costs the writer thread this, never the loop."""
WRITE_BATCH_MAX = 5_000
"""Points per HTTP write; a backlog after an outage goes out in several writes."""
MEASUREMENT = "flashmm_market"


def market_point(instance_id: str, runner: MarketRunner, ts_ns: int) -> str:
    """One line of InfluxDB line protocol for one market at `ts_ns`."""
    fields: dict[str, float | int | str] = {}
    fields.update(cycle_figures(runner))
    fields.update({f"position_{k}": v for k, v in position(runner).items()})
    predicted = prediction(runner)
    if predicted is not None:
        fields["prediction_expected_return_bps"] = float(predicted["expected_return_bps"])
        down, flat, up = predicted["probs"][0]
        fields.update({"prediction_down": down, "prediction_flat": flat, "prediction_up": up})
        fields["model_version"] = str(predicted["version"])
    fields["state"] = runner.core.state.state.value
    tags = f"instance={_escape_tag(instance_id)},market={_escape_tag(runner.market)}"
    body = ",".join(f"{_escape_tag(k)}={_field(v)}" for k, v in fields.items())
    return f"{MEASUREMENT},{tags} {body} {ts_ns}"


def _escape_tag(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", r"\,").replace("=", r"\=").replace(" ", r"\ ")


def _field(value: float | int | str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class InfluxWriter:
    def __init__(
        self,
        url: SecretStr,
        token: SecretStr | None,
        org: str,
        bucket: str,
        instance_id: str,
        runners: Callable[[], Sequence[MarketRunner]],
        interval_s: float,
        queue_max: int,
        scrubber: SecretScrubber,
    ) -> None:
        self._url = url
        self._token = token
        self.org = org
        self.bucket = bucket
        self.instance_id = instance_id
        self._runners = runners
        self.interval_s = interval_s
        self.queue: deque[str] = deque(maxlen=queue_max)
        self._scrubber = scrubber
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="influx-write")
        self._client: InfluxDBClient | None = None
        self.points_queued = 0
        self.points_written = 0
        self.dropped_points = 0
        self.writes = 0
        self.write_failures = 0
        self.last_error: str | None = None

    def submit(self, line: str) -> None:
        """Queue one point without blocking; a full queue drops its oldest point."""
        if len(self.queue) == self.queue.maxlen:
            self.dropped_points += 1
        self.queue.append(line)
        self.points_queued += 1

    def sample(self) -> None:
        now = time.time_ns()
        for runner in self._runners():
            if runner.ready:
                self.submit(market_point(self.instance_id, runner, now))

    async def run(self, stop: asyncio.Event) -> None:
        log.info("InfluxDB points to %s every %.2fs", redact_url(self._url), self.interval_s)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)
            self.sample()
            await self.flush()

    async def flush(self) -> bool:
        """Write what is queued (in batches); False when a write failed (its points stay queued)."""
        while self.queue:
            batch = [self.queue[i] for i in range(min(len(self.queue), WRITE_BATCH_MAX))]
            loop = asyncio.get_running_loop()
            try:
                await loop.run_in_executor(self._executor, self._write, batch)
            except Exception as exc:  # noqa: BLE001 - any client/HTTP failure is counted, the engine goes on
                self._failed(exc)
                return False
            for _ in batch:
                self.queue.popleft()
            self.writes += 1
            self.points_written += len(batch)
        return True

    def _write(self, lines: list[str]) -> None:
        from influxdb_client.client.write_api import SYNCHRONOUS

        if self._client is None:
            from influxdb_client.client.influxdb_client import InfluxDBClient

            token = self._token.get_secret_value() if self._token is not None else ""
            self._client = InfluxDBClient(
                url=self._url.get_secret_value(), token=token, org=self.org, timeout=WRITE_TIMEOUT_MS
            )
        self._client.write_api(write_options=SYNCHRONOUS).write(self.bucket, self.org, record=lines)

    def _failed(self, exc: BaseException) -> None:
        self.write_failures += 1
        self.last_error = self._scrubber.scrub_text(f"{type(exc).__name__}: {_short(exc)}")
        level = logging.ERROR if self.write_failures == 1 else logging.WARNING
        log.log(level, "InfluxDB write failed (%d so far): %s", self.write_failures, self.last_error)

    async def close(self) -> None:
        await self.flush()
        client, self._client = self._client, None
        if client is not None:
            await asyncio.get_running_loop().run_in_executor(self._executor, client.close)
        self._executor.shutdown(wait=False)

    def status(self) -> dict[str, Any]:
        return {
            "queued": len(self.queue),
            "points_written": self.points_written,
            "dropped_points": self.dropped_points,
            "writes": self.writes,
            "write_failures": self.write_failures,
            "last_error": self.last_error,
        }


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 300 else text[:300] + "..."
