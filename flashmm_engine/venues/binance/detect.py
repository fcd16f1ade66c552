"""Tell a Binance capture's market and symbol from its first lines: stream names and message shapes.

- COIN-M: symbols such as `BTCUSD_PERP` or `ETHUSD_240927`, and a `ps` (pair) field in diffs and tickers;
- USD-M futures: diffs carry `pu`, bookTickers carry `"e":"bookTicker"`, trades carry `"X"`;
- spot: diffs without `pu`, bookTickers without an event type.
"""

from __future__ import annotations

from collections import Counter

from flashmm_engine.marketdata.capture import CaptureHead, parse_stamp
from flashmm_engine.marketdata.source import Detection
from flashmm_engine.venues.binance.markets import COINM_SYMBOL, BinanceMarket

VENUE = "binance"
STREAM_PREFIX = b'{"stream":"'
SNAPSHOT_PREFIX = b'{"lastUpdateId":'


def detect(head: CaptureHead) -> Detection | None:
    symbols: Counter[str] = Counter()
    markets: Counter[tuple[str, BinanceMarket]] = Counter()
    recognized = 0
    for line in head.lines:
        stamp, sep, raw = line.partition(b" ")
        if not sep or parse_stamp(stamp) is None:
            continue
        if raw.startswith(SNAPSHOT_PREFIX):
            recognized += 1
            continue
        stream = stream_of(raw)
        if stream is None:
            continue
        symbol, _, kind = stream.partition("@")
        if not symbol or not kind:
            continue
        recognized += 1
        symbols[symbol] += 1
        market = market_of(symbol, kind, raw)
        if market is not None:
            markets[(symbol, market)] += 1
    if not recognized or not symbols:
        return None
    symbol = symbols.most_common(1)[0][0]
    votes: Counter[str] = Counter({market: n for (name, market), n in markets.items() if name == symbol})
    found = votes.most_common(1)[0][0] if votes else None
    return Detection(VENUE, found, symbol.upper(), recognized, symbols, votes)


def stream_of(raw: bytes) -> str | None:
    """The stream name of a combined-stream envelope, e.g. "btcusdt@depth@100ms"."""
    if not raw.startswith(STREAM_PREFIX):
        return None
    end = raw.find(b'"', len(STREAM_PREFIX))
    if end < 0:
        return None
    return raw[len(STREAM_PREFIX) : end].decode("utf-8", errors="replace")


def market_of(symbol: str, kind: str, raw: bytes) -> BinanceMarket | None:
    """The market one stream message shows, or None when its shape is the same on several markets."""
    if COINM_SYMBOL.match(symbol.upper()) or b'"ps":"' in raw:
        return "coinm"
    if kind.startswith("depth"):
        return "usdm" if b'"pu":' in raw else "spot"
    if kind == "bookTicker":
        return "usdm" if b'"e":"bookTicker"' in raw else "spot"
    if kind == "trade":
        return "usdm" if b'"X":"' in raw else "spot"
    return None
