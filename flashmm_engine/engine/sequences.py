"""The ledger as the client-id `SequenceStore`, with the next block reserved ahead on the ledger thread so
that issuing ids never waits for a database write inside a cycle (unless blocks run out faster than one
write takes)."""

from __future__ import annotations

import threading
from concurrent.futures import Future

from flashmm_engine.ledger.journal import LedgerJournal


class PrefetchingSequenceStore:
    def __init__(self, journal: LedgerJournal, instance_id: str, block: int) -> None:
        self._journal = journal
        self._instance = instance_id
        self._block = block
        self._lock = threading.Lock()
        self._spare: Future[int] | None = None

    def prime(self) -> None:
        """Reserve the first spare block now (call once at start, off the hot path)."""
        with self._lock:
            if self._spare is None:
                self._spare = self._fetch()
        self._spare.result()

    def reserve(self, instance_id: str, count: int) -> int:
        if instance_id != self._instance or count != self._block:
            # not the shape we prefetch: reserve directly (correct, just not ahead of time)
            return self._journal.ledger.reserve(instance_id, count)
        with self._lock:
            spare = self._spare if self._spare is not None else self._fetch()
            self._spare = self._fetch()
        if spare.exception() is not None:
            # reserved while the ledger database was away: reserve again now rather than fail the cycle
            return self._fetch().result()
        return spare.result()

    def _fetch(self) -> Future[int]:
        return self._journal.executor_submit(self._journal.ledger.reserve, self._instance, self._block)
