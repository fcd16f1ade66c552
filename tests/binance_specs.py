"""The specs of the ETHUSDT fixtures, as Binance's exchangeInfo gives them (spot sizes at the book's 1e-5)."""

from __future__ import annotations

from decimal import Decimal

from flashmm_engine.marketdata.spec import SOURCE_EXCHANGE_INFO, InstrumentSpec
from flashmm_engine.types import MarketSpec
from flashmm_engine.venues.binance.markets import as_market, market_id

ETH_STEPS = {"spot": ("0.01", "0.00001"), "usdm": ("0.01", "0.001")}


def eth_instrument(market: str) -> InstrumentSpec:
    tick, lot = ETH_STEPS[market]
    return InstrumentSpec(
        venue="binance",
        market=market,
        symbol="ETHUSDT",
        market_id=market_id(as_market(market), "ETHUSDT"),
        tick_size=Decimal(tick),
        lot_size=Decimal(lot),
        base="ETH",
        quote="USDT",
        source=SOURCE_EXCHANGE_INFO,
        origin="tests",
    )


def eth_spec(market: str) -> MarketSpec:
    return eth_instrument(market).market_spec()
