"""One Binance feed pipeline (parse, sync, book) shared by the live connector, replay checks, normalizer.

Callers push raw messages in; a `FeedSink` receives snapshots and diffs exactly when they land in the book,
plus bookTickers and trades. Bad input is counted and skipped and never reaches the book.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from flashmm_engine.marketdata.book import BookError, OrderBook
from flashmm_engine.marketdata.capture import parse_stamp
from flashmm_engine.marketdata.records import (
    BookTicker,
    ColumnarFeedSink,
    DepthDiff,
    DepthSnapshot,
    FeedSink,
    TradeMessage,
)
from flashmm_engine.telemetry.bad_input import BadInputCounter
from flashmm_engine.types import MarketSpec
from flashmm_engine.venues.binance.batch import ParsedBatch, iter_in_file_order
from flashmm_engine.venues.binance.markets import BinanceMarket
from flashmm_engine.venues.binance.messages import BinanceMessage, MalformedMessage, MessageParser
from flashmm_engine.venues.binance.sync import DepthSync, SyncOutcome

log = logging.getLogger(__name__)


class FeedProcessor:
    """Feeds raw messages of one market through parse -> sync -> book -> sink."""

    def __init__(
        self,
        market: BinanceMarket,
        spec: MarketSpec,
        symbol: str,
        sink: FeedSink,
        bad_input: BadInputCounter | None = None,
        book: OrderBook | None = None,
    ) -> None:
        self.market = market
        self.spec = spec
        self.symbol = symbol
        self.sink = sink
        self.bad_input = bad_input or BadInputCounter(log)
        self.parser = MessageParser(spec, symbol)
        self.book = book if book is not None else OrderBook()
        self.sync = DepthSync(market, self.book, on_applied=self._applied, on_loaded=self._loaded)
        self.messages = 0
        self.crossed = 0
        self.forced_resyncs = 0
        self.snapshots_loaded = 0
        self.diffs_applied = 0
        self._now = 0

    @property
    def resyncs(self) -> int:
        """Times the book was thrown away after being synced: chain gaps, crossed books, bad levels."""
        return self.sync.gaps + self.forced_resyncs

    @property
    def malformed(self) -> int:
        return self.bad_input.total

    @property
    def needs_snapshot(self) -> bool:
        return not self.sync.synced

    def on_line(self, line: bytes) -> None:
        """One capture line, `<ts_local_ns> <raw>`."""
        self.on_lines((line,))

    def on_lines(self, lines: Iterable[bytes]) -> None:
        """Capture lines in order; the loop is kept tight because it is the normalizer's hot path."""
        on_message = self.on_message
        for line in lines:
            stamp, sep, raw = line.partition(b" ")
            if sep and raw and (ts_local := parse_stamp(stamp)) is not None:
                on_message(ts_local, raw)
            else:
                self.messages += 1
                self.bad_input.record("bad_line", f"not '<ts_local_ns> <raw>': {line[:60]!r}")

    def on_message(self, ts_local: int, raw: bytes | str) -> None:
        self.messages += 1
        try:
            message = self.parser.parse(ts_local, raw)
        except MalformedMessage as exc:
            self.on_malformed(exc)
            return
        self.on_parsed(ts_local, message)

    def on_batch(self, batch: ParsedBatch) -> None:
        """A whole capture parsed by `BatchParser`, through the same sync and book code, in file order."""
        self.messages += batch.messages
        sink = self.sink
        if isinstance(sink, ColumnarFeedSink):  # tickers and trades never touch the book: hand over columns
            sink.on_batch_levels(batch.level_prices, batch.level_sizes)
            for _, ts_local, book_item in batch.book:
                self.on_item(ts_local, book_item)
            sink.on_book_ticker_columns(batch.tickers)
            sink.on_trade_columns(batch.trades)
            return
        for ts_local, item in iter_in_file_order(batch):
            self.on_item(ts_local, item)

    def on_item(self, ts_local: int, item: BinanceMessage | MalformedMessage) -> None:
        if isinstance(item, MalformedMessage):
            self.on_malformed(item)
        else:
            self.on_parsed(ts_local, item)

    def on_malformed(self, exc: MalformedMessage) -> None:
        self.bad_input.record(exc.kind, str(exc))
        if exc.diff and self.sync.synced:  # the book now misses an update
            self.resync(f"malformed diff ({exc.kind})")

    def on_parsed(self, ts_local: int, message: BinanceMessage) -> None:
        self._now = ts_local
        if type(message) is BookTicker:  # the most frequent message first
            self.sink.on_book_ticker(message)
        elif type(message) is DepthDiff:
            self._on_diff(message)
        elif type(message) is TradeMessage:
            self.sink.on_trade(message)
        elif type(message) is DepthSnapshot:
            self._on_snapshot(message)

    def resync(self, reason: str) -> None:
        """Drop the book and wait for a new snapshot (e.g. after a reconnect or a stale feed)."""
        if self.sync.synced:
            self.forced_resyncs += 1
            log.info("book resync: %s", reason)
        self.sync.reset()

    def _on_diff(self, diff: DepthDiff) -> None:
        try:
            outcome = self.sync.on_diff(diff)
        except BookError as exc:
            self.bad_input.record("bad_level", str(exc))
            self.resync("bad level in a diff")
            return
        if outcome is SyncOutcome.APPLIED and self.book.is_crossed():
            self.crossed += 1
            self.bad_input.record("crossed_book", f"book crossed after update id {diff.final_id}")
            self.resync("crossed book")

    def _on_snapshot(self, snapshot: DepthSnapshot) -> None:
        try:
            accepted = self.sync.on_snapshot(snapshot)
        except BookError as exc:
            self.bad_input.record("bad_snapshot", str(exc))
            return
        if not accepted:
            log.info("snapshot %d too old for the buffered diffs; need a newer one", snapshot.last_update_id)

    def _loaded(self, snapshot: DepthSnapshot) -> None:
        self.snapshots_loaded += 1
        self.sink.on_snapshot(self._now, snapshot)

    def _applied(self, diff: DepthDiff) -> None:
        # buffered diffs land when the snapshot arrives: that is their local time of effect
        self.diffs_applied += 1
        self.sink.on_diff(max(diff.ts_local, self._now), diff)
