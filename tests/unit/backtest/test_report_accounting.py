"""Backtest accounting in integer notional units, checked against figures worked out by hand."""

from __future__ import annotations

from decimal import Decimal

from flashmm_engine.backtest.report import BacktestReport, Inventory, max_drawdown
from flashmm_engine.types import NOTIONAL_SCALE, BookTop, Fill, Liquidity, MarketSpec, Side

SPEC = MarketSpec("ETHUSDT", Decimal("0.01"), Decimal("0.001"))
M = NOTIONAL_SCALE  # 1_000_000 units per tick x lot


def fill(n: int, side: Side, price: int, size: int, fee: int) -> Fill:
    return Fill(f"f{n}", f"c{n}", f"v{n}", "ETHUSDT", side, price, size, fee, Liquidity.MAKER, ts=n)


def test_scripted_fills_match_a_hand_computation() -> None:
    """Buy 1 @100 (fee 5), buy 2 @101 (fee 10), sell 1 @102 (rebate 3), sell 3 @102 (flip to -1 short).

    Hand computation (units = 1e-6 tick x lot):
      cost after the buys 302_000_000 for 3 lots; selling 1 releases 302_000_000 // 3 = 100_666_666,
      realized 102_000_000 - 100_666_666 = 1_333_334; selling the other 2 releases the rest, 201_333_334,
      realized 204_000_000 - 201_333_334 = 2_666_666; total realized 4_000_000 = (306 - 302) ticks x lots.
      fees 5 + 10 - 3 = 12. The flip opens -1 lot at 102: cost -102_000_000.
      equity at the four decisions (mids 100, 98, 102, 105):
        -100_000_005 + 100_000_000 = -5
        -302_000_015 + 294_000_000 = -8_000_015
        -200_000_012 + 204_000_000 = 3_999_988
         105_999_988 - 105_000_000 = 999_988
      max drawdown: -5 -> -8_000_015 = 8_000_010 (the later 3_999_988 -> 999_988 is only 3_000_000).
      unrealized at mid 105: -105_000_000 + 102_000_000 = -3_000_000; pnl 3_999_988 - 3_000_000 = 999_988.
    """
    report = BacktestReport(SPEC)
    script = [
        (fill(1, Side.BUY, 100, 1, 5), BookTop(99, 1, 101, 1)),
        (fill(2, Side.BUY, 101, 2, 10), BookTop(97, 1, 99, 1)),
        (fill(3, Side.SELL, 102, 1, -3), BookTop(101, 1, 103, 1)),
        (fill(4, Side.SELL, 102, 3, 0), BookTop(104, 1, 106, 1)),
    ]
    for event, top in script:
        report.on_event(event)
        report.on_decision(event.ts, top)
    report.mark_final(5, BookTop(104, 1, 106, 1))

    assert report.equity == [-5, -8_000_015, 3_999_988, 999_988]
    inv = report.inventory
    assert (inv.position, inv.cost, inv.realized, inv.fees) == (-1, -102_000_000, 4_000_000, 12)
    summary = report.summary()
    assert summary["realized_pnl_units"] == 3_999_988
    assert summary["unrealized_pnl_units"] == -3_000_000
    assert summary["pnl_units"] == 999_988
    assert summary["max_drawdown_units"] == 8_000_010
    assert summary["fees_units"] == 12
    # display figures: one unit is 0.01 * 0.001 / 1e6 USDT
    assert summary["pnl"] == float(Decimal("0.00000999988"))
    assert summary["position"] == -0.001


def test_accounting_state_is_integer_and_consistent() -> None:
    inv = Inventory()
    script = [(Side.BUY, 7, 3, 1), (Side.SELL, 9, 2, 1), (Side.SELL, 8, 5, -2), (Side.BUY, 6, 1, 0)]
    for side, price, size, fee in script:
        inv.apply(side, price, size, fee)
        state = (inv.position, inv.cash, inv.fees, inv.cost, inv.realized)
        assert all(type(v) is int for v in state)
        assert inv.cash + inv.fees == inv.realized - inv.cost
    # 3 @7 then sell 2 @9: releases 21M * 2 // 3 = 14M, realized 4M; sell 5 @8 closes 1 (releases 7M,
    # realized 1M) and opens -4 @8; buy 1 @6 releases -32M // 4 = -8M: realized 2M more
    assert (inv.position, inv.realized, inv.cost) == (-3, 7 * M, -24 * M)


def test_max_drawdown() -> None:
    assert max_drawdown([]) == 0
    assert max_drawdown([1, 2, 3]) == 0
    assert max_drawdown([5, -1, 4, 0, 6, 5]) == 6
