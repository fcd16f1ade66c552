"""Offline book verification: rebuild a capture's book through the live sync code and check bookTickers."""

from __future__ import annotations

import logging
from pathlib import Path

from flashmm_engine.marketdata.book import OrderBook
from flashmm_engine.marketdata.capture import iter_lines
from flashmm_engine.venues.binance.check import BookTickerCheck
from flashmm_engine.venues.binance.markets import BinanceMarket, binance_market_spec
from flashmm_engine.venues.binance.processor import FeedProcessor

log = logging.getLogger(__name__)

PROGRESS_EVERY_LINES = 20_000


def verify_capture(path: Path, market: BinanceMarket, symbol: str = "ETHUSDT") -> dict[str, float | int]:
    book = OrderBook()
    check = BookTickerCheck(book)
    processor = FeedProcessor(market, binance_market_spec(market, symbol), symbol, check, book=book)
    for count, line in enumerate(iter_lines(path), start=1):
        processor.on_line(line)
        if count % PROGRESS_EVERY_LINES == 0:
            log.info("verify-book: %d lines, %d checks", count, check.counts.checked)
    return {
        "messages": processor.messages,
        "malformed": processor.malformed,
        "resyncs": processor.resyncs,
        "book_ticker_checked": check.counts.checked,
        "book_ticker_matched": check.counts.matched,
        "match_rate": check.counts.match_rate,
    }
