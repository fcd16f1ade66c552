"""Gas and fee arithmetic: exact, rounded up, capped."""

from __future__ import annotations

from decimal import Decimal

from flashmm_engine.venues.sei.stub.ante import required_fee
from flashmm_engine.venues.sei.submit import fee_for_gas, gas_limit, split_failed_message


def test_gas_is_simulation_times_margin_capped() -> None:
    assert gas_limit(100_000, Decimal("1.3"), 3_000_000) == 130_000
    assert gas_limit(100_001, Decimal("1.3"), 3_000_000) == 130_002  # 130001.3 rounds up
    assert gas_limit(5_000_000, Decimal("1.3"), 3_000_000) == 3_000_000


def test_fee_meets_the_node_minimum_exactly() -> None:
    for gas in (1, 130_002, 250_001, 3_000_000):
        fee = fee_for_gas(gas, Decimal("0.02"))
        assert fee == required_fee(gas, Decimal("0.02"))
        assert Decimal(fee) >= Decimal(gas) * Decimal("0.02") > Decimal(fee - 1)


def test_the_failing_message_is_isolated_from_the_cycle() -> None:
    items = ["cancel a", "cancel b", "place c"]
    log = "failed to execute message; message index: 1: Order 7 not found: execute wasm contract failed"
    assert split_failed_message(items, log) == (["cancel b"], ["cancel a", "place c"])
    assert split_failed_message(items, "out of gas in location: wasm contract") == (items, [])
    assert split_failed_message(items, "message index: 9: beyond this tx") == (items, [])
