"""Parsing Binance messages into integer ticks and lots; malformed input raises a specific error."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flashmm_engine.marketdata.records import BookTicker, DepthDiff, DepthSnapshot, TradeMessage
from flashmm_engine.marketdata.units import UnitParser, format_units
from flashmm_engine.types import OffTickError
from flashmm_engine.venues.binance.messages import MalformedMessage, MessageParser
from tests.binance_specs import eth_spec

SPOT = MessageParser(eth_spec("spot"), "ETHUSDT")
USDM = MessageParser(eth_spec("usdm"), "ETHUSDT")


def test_spot_messages() -> None:
    ticker = SPOT.parse(
        7,
        b'{"stream":"ethusdt@bookTicker","data":{"u":35346513501,"s":"ETHUSDT","b":"2683.80000000",'
        b'"B":"3.02920000","a":"2683.81000000","A":"31.43950000"}}',
    )
    assert ticker == BookTicker(7, 7, 35346513501, 268380, 302920, 268381, 3143950)  # no E on spot: ts_local
    diff = SPOT.parse(
        8,
        b'{"stream":"ethusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,"s":"ETHUSDT",'
        b'"U":10,"u":12,"b":[["2683.80000000","3.02920000"]],"a":[["2733.70000000","0.00000000"]]}}',
    )
    assert diff == DepthDiff(8, 1723161255308_000_000, 10, 12, -1, [268380], [302920], [273370], [0])
    trade = SPOT.parse(
        9,
        b'{"stream":"ethusdt@trade","data":{"e":"trade","E":1,"s":"ETHUSDT","t":1520538925,'
        b'"p":"2683.80000000","q":"0.00200000","T":1723161255611,"m":true,"M":true}}',
    )
    assert trade == TradeMessage(9, 1723161255611_000_000, 268380, 200, True, 1520538925)


def test_usdm_snapshot_and_diff() -> None:
    snap = USDM.parse(5, b'{"lastUpdateId":42,"E":1000,"T":999,"bids":[["2681.62","16.969"]],"asks":[]}')
    assert snap == DepthSnapshot(5, 1000 * 1_000_000, 42, [(268162, 16969)], [])
    diff = USDM.parse(
        6,
        b'{"stream":"ethusdt@depth@0ms","data":{"e":"depthUpdate","E":2,"T":2,"s":"ETHUSDT","U":40,'
        b'"u":45,"pu":39,"b":[],"a":[["2681.63","0.001"]]}}',
    )
    assert isinstance(diff, DepthDiff) and diff.prev_final_id == 39 and diff.ask_sizes == [1]


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"{not json", "bad_json"),
        (b"[1,2]", "bad_shape"),
        (b'{"hello":1}', "unknown_message"),
        (b'{"stream":"ethusdt@kline_1m","data":{"s":"ETHUSDT"}}', "unknown_stream"),
        (b'{"stream":"ethusdt@trade","data":{"s":"BTCUSDT"}}', "wrong_symbol"),
        (b'{"stream":"ethusdt@trade","data":{"s":"ETHUSDT","p":"1.00"}}', "bad_field"),
        (
            b'{"stream":"ethusdt@trade","data":{"s":"ETHUSDT","t":1,"p":"-1.00","q":"1","T":1,"m":true}}',
            "bad_field",
        ),
        (
            b'{"stream":"ethusdt@trade","data":{"s":"ETHUSDT","t":1,"p":"1.001","q":"1","T":1,"m":true}}',
            "bad_field",
        ),
        (
            b'{"stream":"ethusdt@trade","data":{"s":"ETHUSDT","t":1.5,"p":"1.00","q":"1","T":1,"m":true}}',
            "bad_field",
        ),
        (
            b'{"stream":"ethusdt@trade","data":{"s":"ETHUSDT","t":1,"p":"1.00","q":"1","T":1,"m":"no"}}',
            "bad_field",
        ),
        (
            b'{"stream":"ethusdt@depth@0ms","data":{"s":"ETHUSDT","E":1,"U":5,"u":4,"pu":3,"b":[],"a":[]}}',
            "bad_update_ids",
        ),
        (
            b'{"stream":"ethusdt@depth@0ms","data":{"s":"ETHUSDT","E":1,"U":1,"u":4,"b":[["1.00"]],"a":[]}}',
            "bad_field",
        ),
        (
            b'{"stream":"ethusdt@bookTicker","data":{"s":"ETHUSDT","u":1,"b":5,"B":"1","a":"1","A":"1"}}',
            "bad_field",
        ),
    ],
)
def test_malformed_messages_name_their_kind(raw: bytes, kind: str) -> None:
    with pytest.raises(MalformedMessage) as info:
        USDM.parse(0, raw)
    assert info.value.kind == kind


def test_unit_parser_exact_rounding_and_rejects() -> None:
    ticks = UnitParser(Decimal("0.01"), "price")
    assert ticks["2683.80000000"] == 268380
    assert ticks["7"] == 700
    for bad in ("", ".5", "-1", "1e3", "1_0", " 1", "1.0.0", "١٢"):
        with pytest.raises(ValueError):
            ticks.parse(bad)
    with pytest.raises(OffTickError):
        ticks.parse("1.005")
    lots = UnitParser(Decimal("0.0001"), "size")
    for finer in ("2292.22972000", "0.00001"):  # finer than the lot: rejected, never rounded
        with pytest.raises(OffTickError):
            lots.parse(finer)
    assert lots["0.00000"] == 0
    spot_lots = UnitParser(eth_spec("spot").lot_size, "size")
    assert spot_lots["2292.22972000"] == 229222972  # the real spot quantity is exact at the spot lot
    fives = UnitParser(Decimal("0.05"), "price")
    assert fives["1.05"] == 21
    with pytest.raises(OffTickError):
        fives.parse("1.07")
    assert format_units(268380, Decimal("0.01")) == "2683.80"


@given(
    units=st.integers(min_value=0, max_value=10**12),
    decimals=st.integers(min_value=0, max_value=8),
    extra_zeros=st.integers(min_value=0, max_value=6),
)
def test_unit_parser_agrees_with_decimal(units: int, decimals: int, extra_zeros: int) -> None:
    step = Decimal(1).scaleb(-decimals)
    text = f"{step * units:.{decimals + extra_zeros}f}"
    parser = UnitParser(step, "value")
    assert parser[text] == parser.parse(text) == units
