"""Connector configuration from settings: public URLs per market, pairing of REST with websocket URLs."""

from __future__ import annotations

import pytest

from flashmm_engine.config.marketdata import BinanceSettings
from flashmm_engine.venues.binance.feed import FeedConfig
from flashmm_engine.venues.binance.markets import as_market, market_id, split_symbol, stream_names


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
        FeedConfig(market="spot", symbol="BTCUSDT", ws_urls=("ws://a",), rest_urls=())


def test_market_ids_and_symbol_split() -> None:
    assert market_id("coinm", "btcusd_perp") == "binance-coinm:BTCUSD_PERP"
    assert split_symbol("BTCUSD_PERP") == ("BTC", "USD")
    assert split_symbol("ETHUSD_240927") == ("ETH", "USD")
    assert split_symbol("SOLFDUSD") == ("SOL", "FDUSD")
    assert split_symbol("BTCUSDT") == ("BTC", "USDT")
    assert split_symbol("XYZ") == ("", "")
    assert stream_names("coinm", "BTCUSD_PERP")[-1] == "btcusd_perp@aggTrade"
    with pytest.raises(ValueError, match="coinm"):
        as_market("options")


def test_coinm_settings_use_the_dapi_urls() -> None:
    config = FeedConfig.from_settings(BinanceSettings(market="coinm", symbol="BTCUSD_PERP"))
    assert (config.market, config.symbol, config.spec) == ("coinm", "BTCUSD_PERP", None)
    assert config.ws_urls == ("wss://dstream.binance.com",) and config.rest_urls == (
        "https://dapi.binance.com",
    )
