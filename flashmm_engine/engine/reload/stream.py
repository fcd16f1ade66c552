"""The Redis stream consumer: XREADGROUP on `reload.stream` in this engine's own group, acknowledging
an entry only after it was handled, so a restart re-delivers what was in flight.

Redis down: the consumer marks itself degraded, reconnects with full-jitter backoff, and the registry
poll keeps reloading meanwhile. A Redis restarted empty (no stream, no group) gets the group recreated
from the stream's start, so nothing appended after the restart is skipped; and every reconnect asks the
registry at once (`on_reconnect`), since an announcement made while Redis was down never reached it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from flashmm_engine.config.reload import ReloadSettings
from flashmm_engine.engine.reload.types import StreamStatus
from flashmm_engine.models.registry_stream import parse_message
from flashmm_engine.service.backoff import Backoff

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 2.0
SOCKET_MARGIN_S = 2.0
"""Socket timeout beyond the XREADGROUP block time."""
READ_COUNT = 16
NEW_ONLY = "$"
FROM_START = "0"

Handler = Callable[[dict[str, str]], Awaitable[None]]


class ModelStreamConsumer:
    def __init__(
        self,
        url: str,
        settings: ReloadSettings,
        group: str,
        consumer: str,
        handle: Handler,
        on_reconnect: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._url = url
        self.settings = settings
        self.stream = settings.stream
        self.group = group
        self.consumer = consumer
        self._handle = handle
        self._on_reconnect = on_reconnect
        self._group_start = NEW_ONLY
        self.degraded = False
        self.connected_once = False
        self.reconnects = 0
        self.errors = 0
        self.messages = 0
        self.malformed = 0
        self.last_error: str | None = None

    def status(self) -> StreamStatus:
        return StreamStatus(
            self.degraded,
            self.connected_once,
            self.reconnects,
            self.errors,
            self.messages,
            self.malformed,
            self.last_error,
        )

    async def run(self, stop: asyncio.Event) -> None:
        backoff = Backoff(max_s=self.settings.reconnect_max_s)
        while not stop.is_set():
            client = aioredis.Redis.from_url(
                self._url,
                socket_connect_timeout=CONNECT_TIMEOUT_S,
                socket_timeout=self.settings.stream_block_ms / 1000 + SOCKET_MARGIN_S,
            )
            try:
                await self._create_group(client)
                recovered = self.degraded
                self.degraded, self.connected_once = False, True
                backoff.reset()
                if recovered:
                    self.reconnects += 1
                    log.warning("model stream: Redis reachable again, consuming %s", self.stream)
                    if self._on_reconnect is not None:
                        await self._on_reconnect()  # what was announced while Redis was down is lost
                await self._consume(client, stop)
            except (RedisError, OSError) as exc:
                self._failed(exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff.next_delay())
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await client.aclose()

    def _failed(self, exc: BaseException) -> None:
        self.errors += 1
        self.last_error = type(exc).__name__
        if isinstance(exc, ResponseError) and str(exc).startswith("NOGROUP"):
            self._group_start = FROM_START  # Redis lost the stream: read the new one from its start
        if not self.degraded:
            log.error(
                "model stream: Redis unavailable (%s); degraded, reloading by registry poll", self.last_error
            )
        self.degraded = True

    async def _create_group(self, client: aioredis.Redis) -> None:
        try:
            await client.xgroup_create(self.stream, self.group, id=self._group_start, mkstream=True)
        except ResponseError as exc:
            if not str(exc).startswith("BUSYGROUP"):
                raise
        self._group_start = NEW_ONLY

    async def _consume(self, client: aioredis.Redis, stop: asyncio.Event) -> None:
        # first what this consumer was handed and never acknowledged (a restart), then new entries
        while await self._read(client, FROM_START, block_ms=None):
            pass
        while not stop.is_set():
            await self._read(client, ">", block_ms=self.settings.stream_block_ms)

    async def _read(self, client: aioredis.Redis, start: str, block_ms: int | None) -> int:
        reply: Any = await client.xreadgroup(
            self.group, self.consumer, {self.stream: start}, count=READ_COUNT, block=block_ms
        )
        handled = 0
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                if fields:  # a pending entry deleted from the stream (XTRIM) comes back without fields
                    await self._dispatch(fields)
                await client.xack(self.stream, self.group, entry_id)
                handled += 1
        return handled

    async def _dispatch(self, fields: dict[bytes, bytes]) -> None:
        message = parse_message(fields)
        if message is None:
            self.malformed += 1
            log.warning("model stream: entry without %s fields ignored", "name/version/path/sha256")
            return
        self.messages += 1
        await self._handle(message)
