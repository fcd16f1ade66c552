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


def verify_capture(path: Path, market: BinanceMarket, symbol: str = "ETHUSDT") -> dict[str, float | int]:
    book = OrderBook()
    check = BookTickerCheck(book)
    processor = FeedProcessor(market, binance_market_spec(market, symbol), symbol, check, book=book)
    processor.on_lines(iter_lines(path))
    log.info("verify-book: %d messages, %d checks", processor.messages, check.counts.checked)
    return {
        "messages": processor.messages,
        "malformed": processor.malformed,
        "resyncs": processor.resyncs,
        "book_ticker_checked": check.counts.checked,
        "book_ticker_matched": check.counts.matched,
        "match_rate": check.counts.match_rate,
    }
