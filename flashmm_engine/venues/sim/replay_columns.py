"""Normalized tables -> one merged, time-ordered stream of plain Python columns for the replay loop.

Iterating lists of ints is several times faster than pandas rows or numpy scalars, which is what lets the
backtester keep up with hftbacktest. Kinds: LEVEL (a book delta or a snapshot level), TRADE (side = the
aggressor), CLEAR (the first level of a new snapshot: the book is cleared before it is applied).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from flashmm_engine.marketdata.normalize import NormalizedTables

LEVEL = 0
TRADE = 1
CLEAR = 2

# `code` folds kind and side together so the hot loop branches once per event
BID_LEVEL = 0
ASK_LEVEL = 1
TRADE_EVENT = 2
CLEAR_EVENT = 3


@dataclass(frozen=True, slots=True)
class EventColumns:
    kind: list[int]
    ts: list[int]
    side: list[int]
    price: list[int]
    size: list[int]
    code: list[int]

    def __len__(self) -> int:
        return len(self.kind)


def merge_tables(tables: NormalizedTables) -> EventColumns:
    """Merge snapshot levels, deltas and trades by local time (snapshot, then deltas, then trades on ties).

    Time is the local receive time: exchange and local clocks in a capture are not synchronised (Binance's
    event times run ahead of the recorder's clock here), so ts_exchange is not used as a clock. Feed
    latency is modelled by the backtest session, which shows the strategy a delayed view.
    """
    snap, delta, trade = tables.book_snapshot, tables.book_delta, tables.trade
    snap_seq = snap["seq"].to_numpy()
    first_of_snapshot = np.ones(len(snap), dtype=bool)
    first_of_snapshot[1:] = snap_seq[1:] != snap_seq[:-1]
    kinds = [
        np.where(first_of_snapshot, CLEAR, LEVEL),
        np.full(len(delta), LEVEL),
        np.full(len(trade), TRADE),
    ]
    frames = [snap, delta, trade]
    sides = [snap["side"], delta["side"], trade["aggressor_side"]]
    kind = np.concatenate(kinds).astype(np.int64)
    ts = _concat(frames, "ts_local")
    priority = np.concatenate([np.full(len(f), i, dtype=np.int64) for i, f in enumerate(frames)])
    order = np.lexsort((np.arange(len(kind)), priority, ts))
    side = np.concatenate([s.to_numpy(dtype=np.int64) for s in sides])
    price, size = _concat(frames, "price"), _concat(frames, "size")
    code = np.where(
        kind == LEVEL,
        np.where(side == 1, BID_LEVEL, ASK_LEVEL),
        np.where(kind == TRADE, TRADE_EVENT, CLEAR_EVENT),
    )
    return EventColumns(
        kind[order].tolist(),
        ts[order].tolist(),
        side[order].tolist(),
        price[order].tolist(),
        size[order].tolist(),
        code[order].tolist(),
    )


def _concat(frames: list[pd.DataFrame], column: str) -> npt.NDArray[np.int64]:
    return np.concatenate([f[column].to_numpy(dtype=np.int64) for f in frames])
