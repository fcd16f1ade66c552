"""Offline book verification: rebuild a capture's book through the live sync code and check bookTickers."""

from __future__ import annotations

import logging
from pathlib import Path

from flashmm_engine.marketdata.book import OrderBook
from flashmm_engine.marketdata.normalize import feed_capture
from flashmm_engine.venues.binance.check import BookTickerCheck
from flashmm_engine.venues.binance.markets import BinanceMarket, binance_market_spec
from flashmm_engine.venues.binance.processor import FeedProcessor

log = logging.getLogger(__name__)


def verify_capture(
    path: Path, market: BinanceMarket, symbol: str = "ETHUSDT", batch: bool = True
) -> dict[str, float | int]:
    """`batch=False` feeds the lines one by one, exactly as the live connector does (same results, slower)."""
    book = OrderBook()
    check = BookTickerCheck(book)
    processor = FeedProcessor(market, binance_market_spec(market, symbol), symbol, check, book=book)
    feed_capture(processor, path, batch)
    log.info("verify-book: %d messages, %d checks", processor.messages, check.counts.checked)
    return {
        "messages": processor.messages,
        "malformed": processor.malformed,
        "resyncs": processor.resyncs,
        "book_ticker_checked": check.counts.checked,
        "book_ticker_matched": check.counts.matched,
        "match_rate": check.counts.match_rate,
    }
