"""Venue-neutral feed records (integer ticks and lots) and the sink protocols a feed pipeline pushes into.

A venue's parser turns raw messages into these records; the book, the normalized tables and the checks take
them without knowing the venue. Update ids follow the common diff-depth model: a diff covers ids
`first_id..final_id`, and `prev_final_id` is the final id of the diff before it where the venue sends one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]


@dataclass(slots=True)
class DepthDiff:
    ts_local: int
    ts_exchange: int
    first_id: int  # U
    final_id: int  # u
    prev_final_id: int  # pu (futures only; -1 on spot)
    bid_prices: list[int]
    bid_sizes: list[int]
    ask_prices: list[int]
    ask_sizes: list[int]
    levels_at: int = -1  # batch path: where its levels (bids, then asks) start in the batch's level arrays
    # batch path: those arrays (prices, sizes); not part of the diff's value
    level_pool: tuple[Ints, Ints] | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class DepthSnapshot:
    ts_local: int
    ts_exchange: int
    last_update_id: int
    bids: list[tuple[int, int]]
    asks: list[tuple[int, int]]


@dataclass(slots=True)
class BookTicker:
    ts_local: int
    ts_exchange: int
    update_id: int
    bid_price: int
    bid_size: int
    ask_price: int
    ask_size: int


@dataclass(slots=True)
class TradeMessage:
    ts_local: int
    ts_exchange: int
    price: int
    size: int
    buyer_is_maker: bool
    trade_id: int


FeedRecord = DepthDiff | DepthSnapshot | BookTicker | TradeMessage


class FeedSink(Protocol):
    def on_snapshot(self, ts_local: int, snapshot: DepthSnapshot) -> None: ...

    def on_diff(self, ts_local: int, diff: DepthDiff) -> None: ...

    def on_book_ticker(self, ticker: BookTicker) -> None: ...

    def on_trade(self, trade: TradeMessage) -> None: ...


@runtime_checkable
class ColumnarFeedSink(FeedSink, Protocol):
    """A sink that also takes a batch's tickers and trades as columns (one int64 array per field)."""

    def on_batch_levels(self, prices: Ints, sizes: Ints) -> None:
        """The level arrays the batch's diffs point into (`DepthDiff.levels_at`); before those diffs."""

    def on_book_ticker_columns(self, columns: dict[str, Ints]) -> None: ...

    def on_trade_columns(self, columns: dict[str, Ints]) -> None: ...
