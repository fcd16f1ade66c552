"""Paired production/shadow predictions in table model_predictions (migration 0003), for Dagster's
daily comparison: rows are buffered on the loop and written in batches by one writer thread; the table
is capped at `reload.predictions_cap_rows` (oldest deleted first) and the buffer at a few batches
(rows beyond it are dropped and counted), so neither grows without bound."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa

from flashmm_engine.db.engine import make_engine

log = logging.getLogger(__name__)

BUFFER_BATCHES = 4
"""Unwritten rows kept (in batches) while the store is slow or down; beyond that rows are dropped."""
FLUSH_TIMEOUT_S = 3.0

metadata = sa.MetaData()
model_predictions = sa.Table(
    "model_predictions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts_ns", sa.BigInteger, nullable=False),
    sa.Column("instance_id", sa.String(32), nullable=False),
    sa.Column("market", sa.String(64), nullable=False),
    sa.Column("model_name", sa.String(128), nullable=False),
    sa.Column("mid_x2", sa.BigInteger, nullable=False),
    sa.Column("production_version", sa.String(64), nullable=True),
    sa.Column("production_expected_bps", sa.Float, nullable=True),
    sa.Column("production_probs", sa.JSON, nullable=True),
    sa.Column("shadow_version", sa.String(64), nullable=False),
    sa.Column("shadow_expected_bps", sa.Float, nullable=False),
    sa.Column("shadow_probs", sa.JSON, nullable=False),
    sa.Column("shadow_inference_ns", sa.BigInteger, nullable=False),
)


class PredictionStore:
    """The table's writer (runs on the writer thread)."""

    def __init__(self, url: str, cap_rows: int) -> None:
        self.engine = make_engine(url)
        self.cap_rows = cap_rows

    def write(self, rows: list[dict[str, Any]]) -> None:
        t = model_predictions
        with self.engine.begin() as conn:
            conn.execute(t.insert(), rows)
            newest = conn.execute(sa.select(sa.func.max(t.c.id))).scalar_one()
            conn.execute(t.delete().where(t.c.id <= newest - self.cap_rows))

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(model_predictions)).scalar_one())

    def close(self) -> None:
        self.engine.dispose()


class PredictionBuffer:
    def __init__(self, store: PredictionStore, batch_rows: int) -> None:
        self.store = store
        self.batch_rows = batch_rows
        self._rows: list[dict[str, Any]] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="predictions")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()
        """Guards `_pending` and the counters: the writer thread's callbacks update them."""
        self.rows_written = 0
        self.rows_dropped = 0
        self.write_errors = 0

    def add(self, row: dict[str, Any]) -> None:
        with self._lock:
            pending = len(self._pending)
            if len(self._rows) + pending * self.batch_rows >= BUFFER_BATCHES * self.batch_rows:
                self.rows_dropped += 1
                return
        self._rows.append(row)
        if len(self._rows) >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        future = self._executor.submit(self.store.write, rows)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(lambda done: self._done(done, len(rows)))

    def _done(self, future: Future[None], n_rows: int) -> None:
        exc = future.exception()
        with self._lock:
            self._pending.discard(future)
            if exc is None:
                self.rows_written += n_rows
                return
            self.write_errors += 1
            self.rows_dropped += n_rows
        log.error("prediction rows not written: %s", type(exc).__name__)

    async def run(self, interval_s: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), interval_s)
            except TimeoutError:
                self.flush()

    async def drain(self, timeout_s: float = FLUSH_TIMEOUT_S) -> None:
        """Write what is buffered and wait until every batch so far is written (or failed)."""
        self.flush()
        loop = asyncio.get_running_loop()
        await asyncio.wait_for(loop.run_in_executor(self._executor, lambda: None), timeout_s)

    async def close(self) -> None:
        try:
            await self.drain()
        except TimeoutError:
            log.warning("prediction rows still being written at shutdown")
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.store.close()
