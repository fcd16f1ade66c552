from decimal import Decimal

import pytest

from flashmm_engine.types import MarketSpec, OffTickError, Side

SPEC = MarketSpec(symbol="ETHUSDT", tick_size=Decimal("0.01"), lot_size=Decimal("0.001"))


def test_price_and_size_round_trip_through_ticks_and_lots() -> None:
    assert SPEC.price_to_ticks("2681.62") == 268162
    assert SPEC.ticks_to_price(268162) == Decimal("2681.62")
    assert SPEC.size_to_lots("16.969") == 16969
    assert SPEC.lots_to_size(16969) == Decimal("16.969")


def test_trailing_zeros_are_on_tick() -> None:
    assert SPEC.price_to_ticks("2683.80000000") == 268380


def test_off_tick_price_is_refused_with_the_value_named() -> None:
    with pytest.raises(OffTickError, match=r"2681\.625"):
        SPEC.price_to_ticks("2681.625")


def test_notional_units_convert_to_quote() -> None:
    # 1 tick x 1 lot = 0.00001 quote; NOTIONAL_SCALE units of it make exactly that.
    assert SPEC.notional_to_quote(1_000_000) == Decimal("0.00001")


def test_side_opposite_and_sign() -> None:
    assert Side.BUY.opposite is Side.SELL
    assert Side.SELL.sign == -1
