"""Static facts about the Binance markets FlashMM follows: specs, market ids, stream names, REST paths."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from flashmm_engine.types import MarketSpec

BinanceMarket = Literal["spot", "usdm"]
MARKETS: tuple[BinanceMarket, ...] = ("spot", "usdm")

# Tick and lot sizes for ETHUSDT: the step of the prices and sizes the feeds publish. Ticks and usdm lots are
# Binance exchangeInfo's (PRICE_FILTER.tickSize, LOT_SIZE.stepSize). The spot lot is 0.00001, finer than
# spot's LOT_SIZE.stepSize 0.0001, because the spot book publishes resting quantities at 1e-5 (e.g. 2292.22972
# in the reference capture): at 0.0001 those levels could only be rounded and the book would not be exact.
# Every size in both reference captures is a whole number of these lots; a finer one is rejected as bad input.
_STEPS: dict[tuple[BinanceMarket, str], tuple[str, str]] = {
    ("spot", "ETHUSDT"): ("0.01", "0.00001"),
    ("usdm", "ETHUSDT"): ("0.01", "0.001"),
}

DEPTH_PATHS: dict[BinanceMarket, str] = {"spot": "/api/v3/depth", "usdm": "/fapi/v1/depth"}
"""REST depth-snapshot endpoint per market."""

DEPTH_STREAMS: dict[BinanceMarket, str] = {"spot": "depth@100ms", "usdm": "depth@0ms"}
"""Diff-depth stream per market (the speeds the reference captures were recorded with)."""

PUBLIC_URLS: dict[BinanceMarket, tuple[str, str]] = {
    "spot": ("wss://stream.binance.com:9443", "https://api.binance.com"),
    "usdm": ("wss://fstream.binance.com", "https://fapi.binance.com"),
}
"""Binance's public combined-stream and REST base URLs per market."""

SNAPSHOT_LIMIT = 1000
"""Levels requested per side in a REST depth snapshot."""


def as_market(value: str) -> BinanceMarket:
    if value == "spot":
        return "spot"
    if value == "usdm":
        return "usdm"
    raise ValueError(f"unknown Binance market {value!r}; expected one of {', '.join(MARKETS)}")


def binance_market_spec(market: str, symbol: str = "ETHUSDT") -> MarketSpec:
    key = (as_market(market), symbol.upper())
    if key not in _STEPS:
        raise ValueError(f"no market spec for Binance {market} {symbol}")
    tick, lot = _STEPS[key]
    base, quote = key[1][:-4], key[1][-4:]
    return MarketSpec(
        symbol=market_id(key[0], key[1]),
        tick_size=Decimal(tick),
        lot_size=Decimal(lot),
        base=base,
        quote=quote,
    )


def market_id(market: BinanceMarket, symbol: str) -> str:
    """The market string used in normalized tables and events, e.g. "binance-spot:ETHUSDT"."""
    return f"binance-{market}:{symbol.upper()}"


def stream_names(market: BinanceMarket, symbol: str) -> list[str]:
    lower = symbol.lower()
    return [f"{lower}@{DEPTH_STREAMS[market]}", f"{lower}@bookTicker", f"{lower}@trade"]


def default_urls(market: BinanceMarket) -> tuple[list[str], list[str]]:
    ws_url, rest_url = PUBLIC_URLS[market]
    return [ws_url], [rest_url]
