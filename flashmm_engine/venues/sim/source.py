"""The engine's recordings of the sim venue as a `CaptureSource`, so the pipeline ingests them like any feed.

A line is `<ts_local_ns> <sim market-data message>` (snapshot, depth, trade, top), decoded by the live
client's decoder. The book is loaded from a snapshot and kept by depth messages whose `seq` follows on; a
gap stops applying depth until the next snapshot (counted as a resync). The spec is the recorder's sidecar:
the venue announced it at login, so nothing is inferred.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from flashmm_engine.errors import InputError
from flashmm_engine.marketdata.book import BookError, OrderBook
from flashmm_engine.marketdata.capture import BadLine, CaptureHead, iter_lines, split_line
from flashmm_engine.marketdata.records import (
    BookTicker,
    DepthDiff,
    DepthSnapshot,
    FeedSink,
    TradeMessage,
)
from flashmm_engine.marketdata.source import CaptureInfo, CaptureStats, Detection
from flashmm_engine.marketdata.spec import recorded_spec, sidecar_path
from flashmm_engine.types import BookDelta, BookSnapshot, MarketEvent, Side, TopOfBook, Trade
from flashmm_engine.venues.sim.market_messages import decode_market_message
from flashmm_engine.venues.sim.protocol import ProtocolError

VENUE = "sim"
MARKET_KINDS = frozenset({"snapshot", "depth", "trade", "top"})


def _message(raw: bytes) -> dict[str, Any] | None:
    try:
        msg = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if isinstance(msg, dict) and msg.get("type") in MARKET_KINDS and isinstance(msg.get("market"), str):
        return msg
    return None


class SimCaptureSource:
    venue = VENUE

    def detect(self, head: CaptureHead) -> Detection | None:
        symbols: Counter[str] = Counter()
        for line in head.lines:
            try:
                _, raw = split_line(line)
            except BadLine:
                continue
            msg = _message(raw)
            if msg is not None:
                symbols[msg["market"]] += 1
        if not symbols:
            return None
        recognized = sum(symbols.values())
        symbol = symbols.most_common(1)[0][0]
        return Detection(VENUE, VENUE, symbol, recognized, symbols, Counter({VENUE: recognized}))

    def open(
        self,
        head: CaptureHead,
        detection: Detection,
        market: str | None,
        symbol: str | None,
        exchange_info: Path | None,
    ) -> CaptureInfo:
        if exchange_info is not None:
            raise InputError(f"{head.path}: a sim capture takes no exchangeInfo; its spec is the sidecar")
        if market not in (None, VENUE):
            raise InputError(f"{head.path}: a capture of the sim venue; --market {market} was given")
        chosen = symbol or detection.symbol
        if chosen not in detection.symbols:
            raise InputError(f"{head.path}: capture holds {', '.join(detection.symbols)}; {chosen} was given")
        spec = recorded_spec(head.path)
        if spec is None:
            raise InputError(
                f"{head.path}: no spec sidecar {sidecar_path(head.path).name}; a sim capture's tick and lot "
                "come from the venue's login announcement the recorder writes there"
            )
        if spec.symbol != chosen:
            raise InputError(f"{sidecar_path(head.path)}: spec of {spec.symbol}; the capture holds {chosen}")
        return CaptureInfo(head.path, VENUE, VENUE, chosen, spec)

    def iterate(
        self, info: CaptureInfo, sink: FeedSink, batch: bool = True, book: OrderBook | None = None
    ) -> CaptureStats:
        feed = _SimFeed(info.symbol, sink, book if book is not None else OrderBook())
        for line in iter_lines(info.path):
            feed.on_line(line)
        return CaptureStats(
            messages=feed.messages,
            malformed=sum(feed.bad.values()),
            resyncs=feed.resyncs,
            snapshots=feed.snapshots,
            diffs_applied=feed.diffs,
            bad_kinds=dict(feed.bad),
        )


class _SimFeed:
    def __init__(self, symbol: str, sink: FeedSink, book: OrderBook) -> None:
        self.symbol, self.sink, self.book = symbol, sink, book
        self.messages = self.snapshots = self.diffs = self.resyncs = self.unsynced = 0
        self.bad: Counter[str] = Counter()
        self.seq: int | None = None  # last applied depth seq; None: no snapshot to apply depth onto

    def on_line(self, line: bytes) -> None:
        self.messages += 1
        try:
            ts_local, raw = split_line(line)
        except BadLine:
            self.bad["line"] += 1
            return
        msg = _message(raw)
        if msg is None:
            self.bad["not a sim market-data message"] += 1
            return
        if msg["market"] != self.symbol:
            self.bad["other market"] += 1
            return
        try:
            events = decode_market_message(msg)
            self._apply(ts_local, events)
        except (ProtocolError, BookError, KeyError, TypeError, ValueError) as exc:
            self.bad[f"{msg['type']}: {type(exc).__name__}"] += 1

    def _apply(self, ts_local: int, events: list[MarketEvent]) -> None:
        if not events:
            return
        first = events[0]
        if isinstance(first, BookSnapshot):
            self.book.load(first.bids, first.asks)
            self.sink.on_snapshot(
                ts_local,
                DepthSnapshot(ts_local, first.ts_exchange, first.seq, list(first.bids), list(first.asks)),
            )
            self.snapshots += 1
            self.seq = first.seq
        elif isinstance(first, BookDelta):
            self._depth(ts_local, [e for e in events if isinstance(e, BookDelta)])
        elif isinstance(first, Trade):
            aggressor_sells = first.aggressor_side == Side.SELL
            self.sink.on_trade(
                TradeMessage(
                    ts_local, first.ts_exchange, first.price, first.size, aggressor_sells, first.trade_id
                )
            )
        elif isinstance(first, TopOfBook):
            self.sink.on_book_ticker(
                BookTicker(
                    ts_local, first.ts_exchange, first.seq, first.bid_price, first.bid_size, first.ask_price,
                    first.ask_size,
                )
            )  # fmt: skip

    def _depth(self, ts_local: int, deltas: list[BookDelta]) -> None:
        seq = deltas[0].seq
        if self.seq is None:
            self.unsynced += 1
            return
        if seq != self.seq + 1:
            self.resyncs += 1
            self.seq = None
            return
        bids = [d for d in deltas if d.side == Side.BUY]
        asks = [d for d in deltas if d.side == Side.SELL]
        diff = DepthDiff(
            ts_local, deltas[0].ts_exchange, seq, seq, -1,
            [d.price for d in bids], [d.size for d in bids], [d.price for d in asks], [d.size for d in asks],
        )  # fmt: skip
        self.book.apply(diff.bid_prices, diff.bid_sizes, diff.ask_prices, diff.ask_sizes)
        self.sink.on_diff(ts_local, diff)
        self.diffs += 1
        self.seq = seq
