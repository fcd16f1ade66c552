"""The ledger off the event loop: one writer thread, so writes keep their order and never block a cycle.

`await journal.call(...)` waits for the commit (fills: durable before the engine acts on them);
`journal.submit(...)` queues a write whose result nobody waits for (order records, events) and `flush`
waits until everything queued so far is committed. A failed queued write is counted and logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from flashmm_engine.ledger.store import Ledger

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

FLUSH_TIMEOUT_S = 3.0


class LedgerJournal:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger")
        self._queued: set[Future[Any]] = set()
        self.failed_writes = 0

    async def call(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    def submit(self, fn: Callable[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
        future = self._executor.submit(fn, *args, **kwargs)
        self._queued.add(future)
        future.add_done_callback(self._on_done)

    def _on_done(self, future: Future[Any]) -> None:
        self._queued.discard(future)
        exc = future.exception()
        if exc is not None:
            self.failed_writes += 1
            log.error("ledger write failed", exc_info=exc)

    def executor_submit(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> Future[R]:
        """Queue a write and get its concurrent future (for callers outside the event loop)."""
        return self._executor.submit(fn, *args, **kwargs)

    async def flush(self, timeout_s: float = FLUSH_TIMEOUT_S) -> None:
        """Wait until every write queued before this call is committed."""
        await asyncio.wait_for(self.call(lambda: None), timeout_s)

    async def close(self) -> None:
        await self.flush()
        self._executor.shutdown(wait=True)
        self.ledger.close()
