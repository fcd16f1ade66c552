"""Exact unit conversions and the FIN codec: no floats, no rounding, clear errors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flashmm_engine.config.sei import SeiSettings
from flashmm_engine.types import NOTIONAL_SCALE, Liquidity, Side
from flashmm_engine.venues.sei import codec as c
from flashmm_engine.venues.sei.units import DenomMarket, UnitError, format_decimal

MARKET = DenomMarket.from_settings(SeiSettings())
# an 18-decimal base against a 6-decimal quote (e.g. an EVM-bridged asset): contract prices are tiny ratios
WIDE = DenomMarket.from_settings(SeiSettings(base_denom="wei", base_decimals=18))
CODEC = c.FinCodec(MARKET)


@given(st.integers(1, 10**9), st.integers(1, 10**7))
def test_round_trips_are_exact(price: int, size: int) -> None:
    for m in (MARKET, WIDE):
        assert m.price_ticks(Decimal(format_decimal(m.contract_price(price)))) == price
        assert m.lots(m.base_raw(size)) == size
        assert m.quote_raw_to_notional(m.quote_raw(price, size)) == price * size * NOTIONAL_SCALE


@given(st.integers(1, 10**9), st.integers(1, 10**7), st.sampled_from([Side.BUY, Side.SELL]))
def test_place_offers_the_right_coin(price: int, size: int, side: Side) -> None:
    call = CODEC.place(side, price, size)
    (coin,) = call.funds
    if side is Side.BUY:
        assert (coin.denom, coin.amount) == ("uusdc", MARKET.quote_raw(price, size))
    else:
        assert (coin.denom, coin.amount) == ("ueth", MARKET.base_raw(size))
    assert "e" not in call.msg["submit_order"]["price"].lower()


def test_values_and_errors() -> None:
    assert CODEC.place(Side.BUY, 250_000, 10).msg == {"submit_order": {"price": "2500"}}
    assert CODEC.cancel("17").msg == {"retract_order": {"order_idx": "17"}}
    assert format_decimal(Decimal("1E-12")) == "0.000000000001"
    with pytest.raises(c.CodecError):
        CODEC.place(Side.BUY, 0, 1)
    coarse = DenomMarket.from_settings(SeiSettings(base_decimals=2))
    with pytest.raises(UnitError):
        coarse.base_raw(1)  # 0.0001 ETH is not a whole number of 0.01 units


def test_parse_event_and_bad_events() -> None:
    attrs = {
        c.A_IDX: "3",
        c.A_OWNER: "sei1x",
        c.A_SIDE: "ask",
        c.A_PRICE: "2500.01",
        c.A_BASE: "300",
        c.A_REMAINING: "700",
        c.A_FEE: "12",
        c.A_LIQUIDITY: "taker",
    }
    ev = CODEC.parse_event("wasm-fill", attrs)
    assert ev is not None
    assert (ev.action, ev.side, ev.price, ev.size, ev.remaining) == (c.Action.FILL, Side.SELL, 250_001, 3, 7)
    assert (ev.fee_quote_raw, ev.liquidity) == (12, Liquidity.TAKER)
    assert CODEC.parse_event("wasm", attrs) is None
    assert CODEC.parse_event("transfer", attrs) is None
    for bad in ({**attrs, c.A_PRICE: "abc"}, {**attrs, c.A_SIDE: "up"}, {**attrs, c.A_BASE: "33"}, {}):
        with pytest.raises(c.CodecError):
            CODEC.parse_event("wasm-fill", bad)


def test_parse_orders_and_book() -> None:
    row = {"idx": "9", "owner": "sei1y", "side": "bid", "quote_price": "2499.5"}
    row |= {"original_base_amount": "1000", "filled_base_amount": "400"}
    (order,) = CODEC.parse_orders({"orders": [row]})
    assert (order.order_idx, order.side, order.price, order.size, order.filled) == (
        "9",
        Side.BUY,
        249_950,
        10,
        4,
    )
    book = {"quote": [{"quote_price": "2499", "total_offer_amount": "200"}], "base": []}
    assert CODEC.parse_book(book) == ([(249_900, 2)], [])
    with pytest.raises(c.CodecError):
        CODEC.parse_orders({"rows": []})
