"""Tracked asyncio tasks: nothing runs unsupervised, no exception is lost, shutdown has a deadline."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

TASK_CANCEL_TIMEOUT_S = 5.0
"""How long `TaskTracker.shutdown` waits for cancelled tasks before giving up on them."""

log = logging.getLogger(__name__)


class TaskTracker:
    """Owns background tasks: logs any exception they die with and cancels them with a timeout."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._tasks: set[asyncio.Task[Any]] = set()
        self.failures: list[tuple[str, BaseException]] = []

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=f"{self._name}:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._on_done)
        return task

    def _on_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.failures.append((task.get_name(), exc))
            log.error("task %s failed", task.get_name(), exc_info=exc)

    @property
    def running(self) -> int:
        return len(self._tasks)

    async def shutdown(self, timeout_s: float = TASK_CANCEL_TIMEOUT_S) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=timeout_s)
        for task in pending:
            log.warning("task %s did not stop within %.1fs", task.get_name(), timeout_s)
