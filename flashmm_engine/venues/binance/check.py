"""Checks a rebuilt book against the exchange's own bookTicker at the same update id.

bookTicker and the diff with the same final update id arrive in either order, so tops are remembered briefly
on both sides: the book's top after each applied diff, and tickers that are ahead of the book.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

from flashmm_engine.marketdata.book import OrderBook
from flashmm_engine.marketdata.records import BookTicker, DepthDiff, DepthSnapshot, FeedSink, TradeMessage

log = logging.getLogger(__name__)

REMEMBERED_UPDATES = 256
"""Applied-diff tops and early tickers kept for matching; the streams are never further apart than this."""

Top = tuple[int, int, int, int]  # bid price, bid size, ask price, ask size


@dataclass
class CheckCounts:
    checked: int = 0
    matched: int = 0
    mismatched: int = 0
    checked_after_resync: int = 0  # checks on a book rebuilt from a second or later snapshot
    matched_after_resync: int = 0

    @property
    def match_rate(self) -> float:
        return self.matched / self.checked if self.checked else 0.0


class BookTickerCheck:
    """A `FeedSink` wrapper: forwards everything to `inner` and counts bookTicker checks against `book`."""

    def __init__(self, book: OrderBook, inner: FeedSink | None = None) -> None:
        self.book = book
        self.inner = inner
        self.counts = CheckCounts()
        self._book_tops: OrderedDict[int, Top] = OrderedDict()
        self._early_tickers: OrderedDict[int, Top] = OrderedDict()
        self._snapshots = 0

    def on_snapshot(self, ts_local: int, snapshot: DepthSnapshot) -> None:
        self._snapshots += 1
        self._book_tops.clear()
        self._early_tickers = OrderedDict(
            (u, top) for u, top in self._early_tickers.items() if u > snapshot.last_update_id
        )
        if self.inner is not None:
            self.inner.on_snapshot(ts_local, snapshot)

    def on_diff(self, ts_local: int, diff: DepthDiff) -> None:
        top = self._top()
        ticker = self._early_tickers.pop(diff.final_id, None)
        if ticker is not None:
            self._compare(diff.final_id, ticker, top)
        else:
            _remember(self._book_tops, diff.final_id, top)
        if self.inner is not None:
            self.inner.on_diff(ts_local, diff)

    def on_book_ticker(self, ticker: BookTicker) -> None:
        seen = (ticker.bid_price, ticker.bid_size, ticker.ask_price, ticker.ask_size)
        top = self._book_tops.pop(ticker.update_id, None)
        if top is not None:
            self._compare(ticker.update_id, seen, top)
        else:
            _remember(self._early_tickers, ticker.update_id, seen)
        if self.inner is not None:
            self.inner.on_book_ticker(ticker)

    def on_trade(self, trade: TradeMessage) -> None:
        if self.inner is not None:
            self.inner.on_trade(trade)

    def _top(self) -> Top:
        bid, ask = self.book.best_bid() or (0, 0), self.book.best_ask() or (0, 0)
        return bid[0], bid[1], ask[0], ask[1]

    def _compare(self, update_id: int, ticker: Top, book: Top) -> None:
        counts, resynced = self.counts, self._snapshots > 1
        counts.checked += 1
        counts.checked_after_resync += resynced
        if ticker == book:
            counts.matched += 1
            counts.matched_after_resync += resynced
            return
        self.counts.mismatched += 1
        log.warning(
            "top of book differs from bookTicker at update id %d: book %s ticker %s", update_id, book, ticker
        )


def _remember(tops: OrderedDict[int, Top], update_id: int, top: Top) -> None:
    tops[update_id] = top
    if len(tops) > REMEMBERED_UPDATES:
        tops.popitem(last=False)
