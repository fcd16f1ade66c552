"""Deterministic client order ids, unique across restarts: `<instance id>-<sequence>`.

The sequence is kept by the ledger (the runtime implements `SequenceStore`). Ids are reserved in blocks so
that issuing one costs no write: a restart resumes after the last reserved block, never reusing an id, at
the price of skipping the unused rest of that block.
"""

from __future__ import annotations

import re
from typing import Protocol

INSTANCE_ID_PATTERN = re.compile(r"^[A-Za-z0-9]{1,16}$")
DEFAULT_BLOCK = 1_000


class SequenceStore(Protocol):
    """Durable per-instance counter: `reserve` returns the first of `count` new sequence numbers, after
    persisting that they are taken (the next call, in this or a later process, starts after them)."""

    def reserve(self, instance_id: str, count: int) -> int: ...


class MemorySequenceStore:
    """An in-process store for backtests and tests: sequences restart with the process."""

    def __init__(self, start: int = 1) -> None:
        self._next: dict[str, int] = {}
        self._start = start
        self.reservations = 0

    def reserve(self, instance_id: str, count: int) -> int:
        first = self._next.get(instance_id, self._start)
        self._next[instance_id] = first + count
        self.reservations += 1
        return first


class ClientIdSource:
    """Issues `<instance_id>-<seq>` ids; `prefix` identifies this instance's orders at reconciliation."""

    def __init__(self, instance_id: str, store: SequenceStore, block: int = DEFAULT_BLOCK) -> None:
        if not INSTANCE_ID_PATTERN.match(instance_id):
            raise ValueError(f"instance id {instance_id!r}: expected 1-16 letters or digits")
        if block < 1:
            raise ValueError(f"client id block {block}: expected >= 1")
        self.instance_id = instance_id
        self.prefix = f"{instance_id}-"
        self._store = store
        self._block = block
        self._next = 0
        self._end = 0

    def next_id(self) -> str:
        if self._next >= self._end:
            self._next = self._store.reserve(self.instance_id, self._block)
            self._end = self._next + self._block
        seq = self._next
        self._next += 1
        return f"{self.prefix}{seq}"

    def owns(self, client_id: str) -> bool:
        return client_id.startswith(self.prefix)
