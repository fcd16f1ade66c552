"""Market events as columns for the compiled feature kernel: a kind, a time and four integer fields per
event, plus the levels of snapshots. Built from event objects (any iterable) or straight from normalized
tables without an object per event, in the same order `normalize.iter_events` yields them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby

import numpy as np
from numpy.typing import NDArray

from flashmm_engine.features import kernel
from flashmm_engine.marketdata.normalize import NormalizedTables
from flashmm_engine.types import BookDelta, MarketEvent, TopOfBook, Trade

Ints = NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class EventColumns:
    kinds: Ints  # kernel event kinds
    ts: Ints  # ts_local, non-decreasing
    fields: Ints  # (n, 4), see kernel's event kinds
    level_prices: Ints  # snapshot levels: bids then asks of each snapshot
    level_sizes: Ints

    def __len__(self) -> int:
        return len(self.kinds)


def from_events(events: Iterable[MarketEvent], market: str, reference: str | None) -> EventColumns:
    kinds: list[int] = []
    stamps: list[int] = []
    fields: list[tuple[int, int, int, int]] = []
    prices: list[int] = []
    sizes: list[int] = []
    for event in events:
        stamps.append(event.ts_local)
        if event.market != market:
            if isinstance(event, TopOfBook) and event.market == reference:
                kinds.append(kernel.REF_TOP)
                fields.append((event.bid_price, 0, event.ask_price, 0))
            else:
                kinds.append(kernel.OTHER)
                fields.append((0, 0, 0, 0))
        elif isinstance(event, BookDelta):
            kinds.append(kernel.DELTA)
            fields.append((int(event.side), event.price, event.size, 0))
        elif isinstance(event, TopOfBook):
            kinds.append(kernel.TOP)
            fields.append((event.bid_price, event.bid_size, event.ask_price, event.ask_size))
        elif isinstance(event, Trade):
            kinds.append(kernel.TRADE)
            fields.append((event.price, event.size, int(event.aggressor_side), 0))
        else:
            kinds.append(kernel.SNAPSHOT)
            fields.append((len(prices), len(event.bids), len(event.asks), 0))
            for price, size in (*event.bids, *event.asks):
                prices.append(price)
                sizes.append(size)
    return EventColumns(
        np.asarray(kinds, dtype=np.int64),
        np.asarray(stamps, dtype=np.int64),
        np.asarray(fields, dtype=np.int64).reshape(-1, 4),
        np.asarray(prices, dtype=np.int64),
        np.asarray(sizes, dtype=np.int64),
    )


def from_tables(tables: NormalizedTables) -> EventColumns:
    """One market's tables merged by (ts_local, table: snapshot, delta, trade, top, then row order), as
    `iter_events` merges them."""
    snap = tables.book_snapshot
    snap_ts, snap_fields, prices, sizes = _snapshots(snap)
    delta, trade, tob = tables.book_delta, tables.trade, tables.top_of_book
    parts = [
        (kernel.SNAPSHOT, snap_ts, snap_fields),
        (kernel.DELTA, _col(delta, "ts_local"), _stack(delta, ("side", "price", "size"))),
        (kernel.TRADE, _col(trade, "ts_local"), _stack(trade, ("price", "size", "aggressor_side"))),
        (kernel.TOP, _col(tob, "ts_local"), _stack(tob, ("bid_price", "bid_size", "ask_price", "ask_size"))),
    ]
    kinds = np.concatenate([np.full(len(ts), kind, dtype=np.int64) for kind, ts, _ in parts])
    stamps = np.concatenate([ts for _, ts, _ in parts])
    fields = np.concatenate([f for _, _, f in parts])
    priority = np.concatenate([np.full(len(ts), p, dtype=np.int64) for p, (_, ts, _) in enumerate(parts)])
    order = np.lexsort((priority, stamps))  # stable: rows of one table keep their order
    return EventColumns(kinds[order], stamps[order], fields[order], prices, sizes)


def _col(frame: object, name: str) -> Ints:
    return np.asarray(frame[name], dtype=np.int64)  # type: ignore[index]


def _stack(frame: object, names: tuple[str, ...]) -> Ints:
    n = len(frame)  # type: ignore[arg-type]
    out = np.zeros((n, 4), dtype=np.int64)
    for i, name in enumerate(names):
        out[:, i] = _col(frame, name)
    return out


def _snapshots(frame: object) -> tuple[Ints, Ints, Ints, Ints]:
    """Snapshots (consecutive rows of one ts_exchange, ts_local, seq) with their levels, bids first."""
    names = ("ts_exchange", "ts_local", "seq", "side", "price", "size")
    columns = {name: _col(frame, name) for name in names}
    keys = zip(*(columns[name].tolist() for name in names[:3]), strict=True)
    stamps: list[int] = []
    fields: list[tuple[int, int, int, int]] = []
    prices: list[Ints] = []
    sizes: list[Ints] = []
    at, offset = 0, 0
    for (_, ts_local, _), group in groupby(keys):
        count = sum(1 for _ in group)
        side = columns["side"][at : at + count]
        bid, ask = side == 1, side == -1
        for mask in (bid, ask):
            prices.append(columns["price"][at : at + count][mask])
            sizes.append(columns["size"][at : at + count][mask])
        n_bids, n_asks = int(bid.sum()), int(ask.sum())
        stamps.append(ts_local)
        fields.append((offset, n_bids, n_asks, 0))
        offset += n_bids + n_asks
        at += count
    empty = np.zeros(0, dtype=np.int64)
    return (
        np.asarray(stamps, dtype=np.int64),
        np.asarray(fields, dtype=np.int64).reshape(-1, 4),
        np.concatenate(prices) if prices else empty,
        np.concatenate(sizes) if sizes else empty,
    )
