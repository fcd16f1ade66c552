"""Gas and fee arithmetic: exact, rounded up, capped."""

from __future__ import annotations

from decimal import Decimal

from flashmm_engine.venues.sei.stub.ante import required_fee
from flashmm_engine.venues.sei.submit import fee_for_gas, gas_limit


def test_gas_is_simulation_times_margin_capped() -> None:
    assert gas_limit(100_000, Decimal("1.3"), 3_000_000) == 130_000
    assert gas_limit(100_001, Decimal("1.3"), 3_000_000) == 130_002  # 130001.3 rounds up
    assert gas_limit(5_000_000, Decimal("1.3"), 3_000_000) == 3_000_000


def test_fee_meets_the_node_minimum_exactly() -> None:
    for gas in (1, 130_002, 250_001, 3_000_000):
        fee = fee_for_gas(gas, Decimal("0.02"))
        assert fee == required_fee(gas, Decimal("0.02"))
        assert Decimal(fee) >= Decimal(gas) * Decimal("0.02") > Decimal(fee - 1)
