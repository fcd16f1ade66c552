"""The registry poll: every `reload.poll_interval_s`, serve the production version of the engine's model.

It is what makes reload work without Redis, and what catches a stream message lost while Redis was down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import sqlalchemy as sa

from flashmm_engine.engine.reload.swap import ModelSwapper
from flashmm_engine.engine.reload.types import Candidate
from flashmm_engine.models.registry import ModelRegistry, ModelVersion

log = logging.getLogger(__name__)

REGISTRY_ERRORS = (sa.exc.SQLAlchemyError, OSError)


def candidate_of(version: ModelVersion) -> Candidate:
    return Candidate(version.name, version.version, version.path, version.sha256)


class RegistryPoller:
    def __init__(
        self,
        registry: ModelRegistry,
        swapper: ModelSwapper,
        interval_s: float,
        also: Callable[[ModelRegistry], Awaitable[None]] | None = None,
    ) -> None:
        self.registry = registry
        self.swapper = swapper
        self.interval_s = interval_s
        self._also = also
        self.polls = 0
        self.errors = 0
        self.last_poll_ns: int | None = None

    async def production(self) -> Candidate | None:
        """The registry's production version; raises one of REGISTRY_ERRORS when the store is down."""
        version = await asyncio.to_thread(self.registry.production, self.swapper.name)
        return None if version is None else candidate_of(version)

    async def check(self, source: str) -> None:
        """One poll: errors are counted and logged, never raised."""
        try:
            candidate = await self.production()
            if candidate is not None:
                await self.swapper.ensure(candidate, source)
            if self._also is not None:
                await self._also(self.registry)
        except REGISTRY_ERRORS as exc:
            self.errors += 1
            log.warning("model registry poll failed: %s", type(exc).__name__)
        self.polls += 1
        self.last_poll_ns = time.time_ns()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval_s)
            if not stop.is_set():
                await self.check("poll")
