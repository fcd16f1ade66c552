"""Connector configuration from settings: public URLs per market, pairing of REST with websocket URLs."""

from __future__ import annotations

import pytest

from flashmm_engine.config.marketdata import BinanceSettings
from flashmm_engine.venues.binance.feed import FeedConfig
from flashmm_engine.venues.binance.markets import binance_market_spec, stream_names


def test_public_urls_follow_the_market() -> None:
    spot = FeedConfig.from_settings(BinanceSettings())
    usdm = FeedConfig.from_settings(BinanceSettings(market="usdm"))
    assert spot.ws_urls == ("wss://stream.binance.com:9443",) and spot.rest_urls == (
        "https://api.binance.com",
    )
    assert usdm.ws_urls == ("wss://fstream.binance.com",) and usdm.rest_urls == ("https://fapi.binance.com",)
    assert stream_names("usdm", "ETHUSDT") == ["ethusdt@depth@0ms", "ethusdt@bookTicker", "ethusdt@trade"]


def test_rest_urls_default_per_websocket_url_and_must_pair() -> None:
    config = FeedConfig.from_settings(BinanceSettings(ws_urls=["ws://127.0.0.1:1", "ws://127.0.0.1:2"]))
    assert config.rest_urls == ("https://api.binance.com", "https://api.binance.com")
    with pytest.raises(ValueError, match="paired"):
        BinanceSettings(ws_urls=["ws://a", "ws://b"], rest_urls=["http://a"])
    with pytest.raises(ValueError):
        FeedConfig(market="spot", ws_urls=("ws://a",), rest_urls=())


def test_market_specs() -> None:
    spot, usdm = binance_market_spec("spot"), binance_market_spec("usdm")
    assert (spot.symbol, str(spot.tick_size), str(spot.lot_size)) == (
        "binance-spot:ETHUSDT",
        "0.01",
        "0.00001",
    )
    assert (usdm.symbol, str(usdm.tick_size), str(usdm.lot_size)) == ("binance-usdm:ETHUSDT", "0.01", "0.001")
    assert (spot.base, spot.quote) == ("ETH", "USDT")
    with pytest.raises(ValueError):
        binance_market_spec("coinm")
