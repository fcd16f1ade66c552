"""Raw captures -> normalized Parquet tables, through the venue's own feed pipeline (the live connector's).

Tables and their columns are the cross-team contract (see README, "Normalized tables"). Diffs that were
buffered before a snapshot carry the snapshot's local time as `ts_local`, the moment they took effect, so that
replaying snapshot + deltas in ts_local order rebuilds the book. The instrument spec the values were read
with is written beside the tables as `spec.json`.
"""

from __future__ import annotations

import gc
import heapq
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

import pandas as pd

from flashmm_engine.marketdata.columns import ColumnSink
from flashmm_engine.marketdata.source import CaptureInfo, CaptureSource, CaptureStats, require_usable
from flashmm_engine.marketdata.spec import SPEC_FILE, InstrumentSpec, write_spec
from flashmm_engine.types import BookDelta, BookSnapshot, MarketEvent, MarketSpec, Side, TopOfBook, Trade

log = logging.getLogger(__name__)

TABLE_NAMES = ("book_delta", "book_snapshot", "trade", "top_of_book")


@dataclass
class NormalizedTables:
    book_delta: pd.DataFrame
    book_snapshot: pd.DataFrame
    trade: pd.DataFrame
    top_of_book: pd.DataFrame
    spec: MarketSpec
    instrument: InstrumentSpec


def normalize(
    source: CaptureSource, info: CaptureInfo, batch: bool = True
) -> tuple[NormalizedTables, CaptureStats]:
    """`batch=False` feeds the lines one by one, exactly as the live connector does (same results, slower)."""
    sink = ColumnSink(info.spec.market_id)
    stats = source.iterate(info, sink, batch)
    require_usable(info, stats)
    tables = NormalizedTables(
        book_delta=sink.book_delta(),
        book_snapshot=sink.book_snapshot(),
        trade=sink.trade(),
        top_of_book=sink.top_of_book(),
        spec=info.spec.market_spec(),
        instrument=info.spec,
    )
    return tables, stats


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection meanwhile: a batch makes many acyclic objects (diffs and level lists),
    and the collector would walk them all again and again for nothing (it costs up to half the diff
    building time in `flashmm bench feed`)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def write_parquet(tables: NormalizedTables, out_dir: Path) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name in TABLE_NAMES:
        frame: pd.DataFrame = getattr(tables, name)
        paths[name] = out_dir / f"{name}.parquet"
        frame.to_parquet(paths[name], index=False)
    paths["spec"] = write_spec(tables.instrument, out_dir / SPEC_FILE)
    return paths


def iter_events(tables: NormalizedTables) -> Iterator[MarketEvent]:
    """All events as types.py objects in ts_local order; a snapshot precedes deltas of equal ts_local."""
    streams = [
        _keyed(0, _snapshots(tables.book_snapshot)),
        _keyed(1, _deltas(tables.book_delta)),
        _keyed(2, trades_of(tables.trade)),
        _keyed(3, _tops(tables.top_of_book)),
    ]
    for _, _, _, event in heapq.merge(*streams):
        yield event


def _keyed(priority: int, events: Iterator[MarketEvent]) -> Iterator[tuple[int, int, int, Any]]:
    for index, event in enumerate(events):
        yield event.ts_local, priority, index, event


def _rows(frame: pd.DataFrame, columns: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    return zip(*(frame[c].tolist() for c in columns), strict=True)


def _snapshots(frame: pd.DataFrame) -> Iterator[BookSnapshot]:
    rows = _rows(frame, ("ts_exchange", "ts_local", "market", "seq", "side", "price", "size"))
    for (ts_exchange, ts_local, market, seq), levels in groupby(rows, key=lambda row: row[:4]):
        sided = [(side, price, size) for *_, side, price, size in levels]
        yield BookSnapshot(
            ts_exchange=ts_exchange,
            ts_local=ts_local,
            market=market,
            seq=seq,
            bids=tuple((p, s) for side, p, s in sided if side == 1),
            asks=tuple((p, s) for side, p, s in sided if side == -1),
        )


def _deltas(frame: pd.DataFrame) -> Iterator[BookDelta]:
    for ts_exchange, ts_local, market, side, price, size, seq in _rows(frame, tuple(frame.columns)):
        yield BookDelta(ts_exchange, ts_local, market, Side(side), price, size, seq)


def trades_of(frame: pd.DataFrame) -> Iterator[Trade]:
    for ts_exchange, ts_local, market, price, size, aggressor, trade_id in _rows(frame, tuple(frame.columns)):
        yield Trade(ts_exchange, ts_local, market, price, size, Side(aggressor), trade_id)


def _tops(frame: pd.DataFrame) -> Iterator[TopOfBook]:
    for row in _rows(frame, tuple(frame.columns)):
        yield TopOfBook(*row)
