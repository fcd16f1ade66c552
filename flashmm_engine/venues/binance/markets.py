"""Static facts about the Binance markets FlashMM follows: market ids, stream names, REST paths.

Instrument specs (tick, lot, contract size) are not here: they come from exchangeInfo or are inferred from
the data (see `specs.py`), for any symbol.
"""

from __future__ import annotations

import re
from typing import Literal

BinanceMarket = Literal["spot", "usdm", "coinm"]
MARKETS: tuple[BinanceMarket, ...] = ("spot", "usdm", "coinm")
FUTURES: frozenset[str] = frozenset({"usdm", "coinm"})
"""Markets whose diffs carry `pu` and follow the futures sync rules."""

DEPTH_PATHS: dict[BinanceMarket, str] = {
    "spot": "/api/v3/depth",
    "usdm": "/fapi/v1/depth",
    "coinm": "/dapi/v1/depth",
}
"""REST depth-snapshot endpoint per market."""

EXCHANGE_INFO_PATHS: dict[BinanceMarket, str] = {
    "spot": "/api/v3/exchangeInfo",
    "usdm": "/fapi/v1/exchangeInfo",
    "coinm": "/dapi/v1/exchangeInfo",
}

DEPTH_STREAMS: dict[BinanceMarket, str] = {"spot": "depth@100ms", "usdm": "depth@0ms", "coinm": "depth@100ms"}
"""Diff-depth stream the live connector subscribes to per market (COIN-M has no 0 ms speed)."""

TRADE_STREAMS: dict[BinanceMarket, str] = {"spot": "trade", "usdm": "trade", "coinm": "aggTrade"}
"""Trade stream per market: COIN-M publishes aggregate trades only."""

PUBLIC_URLS: dict[BinanceMarket, tuple[str, str]] = {
    "spot": ("wss://stream.binance.com:9443", "https://api.binance.com"),
    "usdm": ("wss://fstream.binance.com", "https://fapi.binance.com"),
    "coinm": ("wss://dstream.binance.com", "https://dapi.binance.com"),
}
"""Binance's public combined-stream and REST base URLs per market."""

SNAPSHOT_LIMIT = 1000
"""Levels requested per side in a REST depth snapshot."""

COINM_SYMBOL = re.compile(r"^([A-Z0-9]+?)(USD)_(PERP|\d{6})$")
"""COIN-M contracts: `<base>USD_PERP` or `<base>USD_<yymmdd>` (delivery)."""
QUOTE_ASSETS = (
    "FDUSD",
    "USDT",
    "USDC",
    "TUSD",
    "BUSD",
    "BTC",
    "ETH",
    "BNB",
    "EUR",
    "TRY",
    "BRL",
    "JPY",
    "DAI",
)
"""Quote assets tried, longest first, to split a spot or USD-M symbol when no exchangeInfo is given."""


def as_market(value: str) -> BinanceMarket:
    for market in MARKETS:
        if value == market:
            return market
    raise ValueError(f"unknown Binance market {value!r}; expected one of {', '.join(MARKETS)}")


def market_id(market: BinanceMarket, symbol: str) -> str:
    """The market string used in normalized tables and events, e.g. "binance-spot:ETHUSDT"."""
    return f"binance-{market}:{symbol.upper()}"


def stream_names(market: BinanceMarket, symbol: str) -> list[str]:
    lower = symbol.lower()
    return [f"{lower}@{DEPTH_STREAMS[market]}", f"{lower}@bookTicker", f"{lower}@{TRADE_STREAMS[market]}"]


def default_urls(market: BinanceMarket) -> tuple[list[str], list[str]]:
    ws_url, rest_url = PUBLIC_URLS[market]
    return [ws_url], [rest_url]


def split_symbol(symbol: str) -> tuple[str, str]:
    """(base, quote) guessed from the symbol's name; ("", "") when no known quote asset ends it."""
    upper = symbol.upper()
    coinm = COINM_SYMBOL.match(upper)
    if coinm:
        return coinm.group(1), coinm.group(2)
    for quote in QUOTE_ASSETS:
        if upper.endswith(quote) and len(upper) > len(quote):
            return upper[: -len(quote)], quote
    return "", ""
