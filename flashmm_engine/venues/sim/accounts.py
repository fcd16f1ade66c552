"""Per-account, per-market balances with reservations for open orders.

`base` is in lots of the market's base asset (a position when shorting is allowed); `quote` is in notional
units of that market (types.NOTIONAL_SCALE per tick x lot). Reservations keep an account from committing the
same funds to two orders.
"""

from __future__ import annotations

from dataclasses import dataclass

from flashmm_engine.types import NOTIONAL_SCALE, Side


@dataclass(slots=True)
class Balance:
    base: int = 0
    quote: int = 0
    reserved_base: int = 0
    reserved_quote: int = 0

    @property
    def available_base(self) -> int:
        return self.base - self.reserved_base

    @property
    def available_quote(self) -> int:
        return self.quote - self.reserved_quote


def notional(price: int, size: int) -> int:
    return price * size * NOTIONAL_SCALE


def fee_for(price: int, size: int, fee_ppm: int) -> int:
    """Fee in notional units: exact, since notional = price*size*1e6 and the rate is in ppm."""
    return price * size * fee_ppm


def buy_reservation(price: int, size: int, max_fee_ppm: int) -> int:
    return notional(price, size) + max(0, fee_for(price, size, max_fee_ppm))


def settle(balance: Balance, side: Side, price: int, size: int, fee: int) -> None:
    """Apply one execution to one account: base moves by +-size, quote by -+notional, minus the fee."""
    balance.base += side.sign * size
    balance.quote -= side.sign * notional(price, size) + fee
