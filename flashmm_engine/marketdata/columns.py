"""Columnar buffers that collect normalized rows as plain lists and turn them into DataFrames at the end.

Per-row objects would dominate the cost of normalizing a capture; list appends and C-level `extend` do not.
"""

from __future__ import annotations

from itertools import groupby
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from flashmm_engine.marketdata.records import BookTicker, DepthDiff, DepthSnapshot, TradeMessage

BOOK_DELTA_COLUMNS = ("ts_exchange", "ts_local", "market", "side", "price", "size", "seq")
BOOK_SNAPSHOT_COLUMNS = ("ts_exchange", "ts_local", "market", "seq", "side", "price", "size")
TRADE_COLUMNS = ("ts_exchange", "ts_local", "market", "price", "size", "aggressor_side", "trade_id")
Columns = dict[str, npt.NDArray[np.int64]]
TOP_OF_BOOK_COLUMNS = (
    "ts_exchange", "ts_local", "market", "bid_price", "bid_size", "ask_price", "ask_size", "seq",
)  # fmt: skip


class ColumnSink:
    """A `FeedSink` that buffers every kind of normalized row for one market."""

    def __init__(self, market: str) -> None:
        self.market = market
        # book_delta: per-diff header columns plus flat level columns (bids then asks of each diff)
        self._diff_ts_exchange: list[int] = []
        self._diff_ts_local: list[int] = []
        self._diff_seq: list[int] = []
        self._side_counts: list[int] = []  # bid count, ask count, bid count, ask count, ...
        self._level_prices: list[int] = []
        self._level_sizes: list[int] = []
        # batch path: level arrays diffs point into instead (no per-level copy); -1: levels in the lists
        self._level_pools: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = []
        self._pool_base = -1
        self._diff_levels_at: list[int] = []
        self._snapshot_rows: list[tuple[int, int, int, int, int, int]] = []
        # messages are kept as they come (one append) and split into columns once, at the end; column
        # chunks from the batch path are kept as they are, in arrival order with the messages
        self._trades: list[TradeMessage | Columns] = []
        self._tops: list[BookTicker | Columns] = []

    def on_snapshot(self, ts_local: int, snapshot: DepthSnapshot) -> None:
        head = (snapshot.ts_exchange, ts_local, snapshot.last_update_id)
        rows = self._snapshot_rows
        rows.extend((*head, 1, p, s) for p, s in sorted(snapshot.bids, reverse=True) if s)
        rows.extend((*head, -1, p, s) for p, s in sorted(snapshot.asks) if s)

    def on_diff(self, ts_local: int, diff: DepthDiff) -> None:
        self._diff_ts_exchange.append(diff.ts_exchange)
        self._diff_ts_local.append(ts_local)
        self._diff_seq.append(diff.final_id)
        self._side_counts.append(len(diff.bid_prices))
        self._side_counts.append(len(diff.ask_prices))
        if diff.levels_at >= 0 and self._pool_base >= 0:
            self._diff_levels_at.append(self._pool_base + diff.levels_at)
            return
        self._diff_levels_at.append(-1)
        self._level_prices += diff.bid_prices
        self._level_prices += diff.ask_prices
        self._level_sizes += diff.bid_sizes
        self._level_sizes += diff.ask_sizes

    def on_batch_levels(self, prices: npt.NDArray[np.int64], sizes: npt.NDArray[np.int64]) -> None:
        self._pool_base = sum(len(pool) for pool, _ in self._level_pools)
        self._level_pools.append((prices, sizes))

    def on_book_ticker(self, ticker: BookTicker) -> None:
        self._tops.append(ticker)

    def on_trade(self, trade: TradeMessage) -> None:
        self._trades.append(trade)

    def on_book_ticker_columns(self, columns: Columns) -> None:
        self._tops.append(columns)

    def on_trade_columns(self, columns: Columns) -> None:
        self._trades.append(columns)

    def book_delta(self) -> pd.DataFrame:
        counts = np.asarray(self._side_counts, dtype=np.int64)
        per_diff = counts[0::2] + counts[1::2]
        sides = np.tile(np.array([1, -1], dtype=np.int8), len(self._diff_seq))
        columns = {
            "ts_exchange": np.repeat(np.asarray(self._diff_ts_exchange, dtype=np.int64), per_diff),
            "ts_local": np.repeat(np.asarray(self._diff_ts_local, dtype=np.int64), per_diff),
            "market": self._market_column(int(per_diff.sum())),
            "side": np.repeat(sides, counts),
            **self._levels(per_diff),
            "seq": np.repeat(np.asarray(self._diff_seq, dtype=np.int64), per_diff),
        }
        return _sorted_frame(columns, BOOK_DELTA_COLUMNS)

    def _levels(self, per_diff: npt.NDArray[np.int64]) -> dict[str, npt.NDArray[np.int64]]:
        """Price and size columns: batch diffs' levels taken from their pools, the others' from the lists."""
        listed_prices = np.asarray(self._level_prices, dtype=np.int64)
        listed_sizes = np.asarray(self._level_sizes, dtype=np.int64)
        if not self._level_pools:
            return {"price": listed_prices, "size": listed_sizes}
        pooled = sum(len(pool) for pool, _ in self._level_pools)
        levels_at = np.asarray(self._diff_levels_at, dtype=np.int64)
        listed = np.where(levels_at < 0, per_diff, 0)
        starts = np.where(levels_at < 0, pooled + np.cumsum(listed) - listed, levels_at)
        offsets = np.cumsum(per_diff) - per_diff
        index = np.repeat(starts - offsets, per_diff) + np.arange(int(per_diff.sum()))
        prices = np.concatenate([*(pool for pool, _ in self._level_pools), listed_prices])
        sizes = np.concatenate([*(pool for _, pool in self._level_pools), listed_sizes])
        return {"price": prices[index], "size": sizes[index]}

    def book_snapshot(self) -> pd.DataFrame:
        rows = np.asarray(self._snapshot_rows, dtype=np.int64).reshape(-1, 6)
        columns = {
            "ts_exchange": rows[:, 0],
            "ts_local": rows[:, 1],
            "market": self._market_column(len(rows)),
            "seq": rows[:, 2],
            "side": rows[:, 3].astype(np.int8),
            "price": rows[:, 4],
            "size": rows[:, 5],
        }
        return _sorted_frame(columns, BOOK_SNAPSHOT_COLUMNS)

    def trade(self) -> pd.DataFrame:
        names = ("ts_exchange", "ts_local", "price", "size", "trade_id", "buyer_is_maker")
        columns: dict[str, Any] = _gather(self._trades, names)
        columns["market"] = self._market_column(len(columns["ts_local"]))
        columns["aggressor_side"] = np.where(columns.pop("buyer_is_maker"), -1, 1).astype(np.int8)
        return _sorted_frame(columns, TRADE_COLUMNS)

    def top_of_book(self) -> pd.DataFrame:
        names = ("ts_exchange", "ts_local", "bid_price", "bid_size", "ask_price", "ask_size", "update_id")
        columns: dict[str, Any] = _gather(self._tops, names)
        columns["seq"] = columns.pop("update_id")
        columns["market"] = self._market_column(len(columns["seq"]))
        return _sorted_frame(columns, TOP_OF_BOOK_COLUMNS)

    def _market_column(self, length: int) -> pd.Series:
        # repeating a one-element string Series is a C-level take; building from Python objects is not
        return pd.Series([self.market], dtype="str").repeat(length).reset_index(drop=True)


def _gather(items: list[Any], names: tuple[str, ...]) -> dict[str, npt.NDArray[np.int64]]:
    """Columns from a mix of message objects and column chunks, in arrival order."""
    chunks: list[dict[str, npt.NDArray[np.int64]]] = []
    for is_chunk, run in groupby(items, key=lambda item: type(item) is dict):
        group = list(run)
        if is_chunk:
            chunks += [{name: np.asarray(chunk[name], dtype=np.int64) for name in names} for chunk in group]
        else:
            chunks.append({name: _column(group, name) for name in names})
    if not chunks:
        return {name: np.zeros(0, dtype=np.int64) for name in names}
    return {name: np.concatenate([chunk[name] for chunk in chunks]) for name in names}


def _column(messages: list[Any], name: str) -> npt.NDArray[np.int64]:
    return np.fromiter(map(attrgetter(name), messages), dtype=np.int64, count=len(messages))


def _sorted_frame(columns: dict[str, Any], order: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame({name: columns[name] for name in order})
    ts_local: npt.NDArray[np.int64] = columns["ts_local"]
    if len(ts_local) > 1 and bool((np.diff(ts_local) < 0).any()):
        frame = frame.iloc[np.argsort(ts_local, kind="stable")].reset_index(drop=True)
    return frame
