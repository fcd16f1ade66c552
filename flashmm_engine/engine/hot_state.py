"""Redis hot state: each market's top of book, position, quotes, model version, last prediction and state.

Keys are `flashmm:hot:<instance>:<market>:<part>` (JSON strings) with a TTL, so a stopped or stuck engine's
state expires instead of looking current. A tracked task writes them a few times a second in one pipeline;
the quote cycle never awaits Redis. When Redis is unreachable the engine keeps trading: `degraded` is set,
the write is retried with jittered backoff, and the next successful write clears it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import orjson
from pydantic import SecretStr
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from flashmm_engine.engine.market_snapshot import market_snapshot
from flashmm_engine.service.backoff import Backoff
from flashmm_engine.telemetry.redact import redact_url

if TYPE_CHECKING:
    from flashmm_engine.engine.market_task import MarketRunner

log = logging.getLogger(__name__)

KEY_PREFIX = "flashmm:hot"
REDIS_TIMEOUT_S = 1.0
"""Connect and per-command timeout: a hung Redis marks the engine degraded instead of holding the writer."""
RECONNECT_MAX_S = 5.0


def hot_key(instance_id: str, market: str, part: str) -> str:
    return f"{KEY_PREFIX}:{instance_id}:{market}:{part}"


class HotStatePublisher:
    def __init__(
        self,
        url: SecretStr,
        instance_id: str,
        runners: Callable[[], Sequence[MarketRunner]],
        interval_s: float,
        ttl_s: float,
        backoff: Backoff | None = None,
    ) -> None:
        self._url = url
        self.instance_id = instance_id
        self._runners = runners
        self.interval_s = interval_s
        self.ttl_ms = max(1, int(ttl_s * 1000))
        self._backoff = backoff or Backoff(max_s=RECONNECT_MAX_S)
        self._redis: Redis | None = None
        self.degraded = False
        self.degraded_since_ns: int | None = None
        self.writes = 0
        self.write_failures = 0
        self.reconnects = 0
        self.last_error: str | None = None

    def _client(self) -> Redis:
        if self._redis is None:
            self._redis = Redis.from_url(
                self._url.get_secret_value(),
                socket_timeout=REDIS_TIMEOUT_S,
                socket_connect_timeout=REDIS_TIMEOUT_S,
                retry=Retry(NoBackoff(), 0),  # one attempt per write: this writer's own backoff retries
            )
        return self._redis

    async def run(self, stop: asyncio.Event) -> None:
        log.info("hot state to Redis %s every %.2fs", redact_url(self._url), self.interval_s)
        while not stop.is_set():
            delay = self.interval_s if await self.publish_once() else self._backoff.next_delay()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)

    async def publish_once(self) -> bool:
        """One pipeline with every market's keys; False (and degraded) when Redis did not take it."""
        pipe = self._client().pipeline(transaction=False)
        for runner in self._runners():
            for part, value in market_snapshot(runner).items():
                pipe.set(hot_key(self.instance_id, runner.market, part), orjson.dumps(value), px=self.ttl_ms)
        try:
            await pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return False
        self.writes += 1
        if self.degraded:
            self.degraded, self.degraded_since_ns = False, None
            self.reconnects += 1
            log.warning("Redis hot state is back after %d failed writes", self.write_failures)
        self._backoff.reset()
        return True

    def _failed(self, exc: BaseException) -> None:
        self.write_failures += 1
        # redis-py names host and port in its errors, never the password; the URL is logged redacted
        self.last_error = f"{type(exc).__name__}: {exc}"
        if not self.degraded:
            self.degraded = True
            self.degraded_since_ns = time.time_ns()
            log.error(
                "Redis hot state unavailable (%s): degraded, trading goes on: %s",
                redact_url(self._url),
                self.last_error,
            )

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    def status(self) -> dict[str, object]:
        return {
            "degraded": self.degraded,
            "degraded_since_ns": self.degraded_since_ns,
            "writes": self.writes,
            "write_failures": self.write_failures,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
        }
