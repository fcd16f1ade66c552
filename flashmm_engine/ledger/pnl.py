"""Position and PnL arithmetic in integers: lots, and notional units (types.NOTIONAL_SCALE per tick x lot).

The open position carries a signed cost basis (what was paid for a long, minus what was received for a
short). Closing part of it releases a pro-rata share of the basis, rounded down; the remainder stays in the
basis, so realized PnL plus the basis always add up exactly to the trades' cash flows: nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from flashmm_engine.types import NOTIONAL_SCALE, Side


@dataclass(frozen=True, slots=True)
class Book:
    """One market's trading book, counted from the opening balance (trading position = position - opening)."""

    opening_position: int = 0
    position: int = 0
    cost_basis: int = 0
    realized_pnl: int = 0

    @property
    def trading_position(self) -> int:
        return self.position - self.opening_position

    def unrealized_pnl(self, mark_ticks: int) -> int:
        """PnL of the open trading position at the mark, in notional units."""
        return self.trading_position * mark_ticks * NOTIONAL_SCALE - self.cost_basis


def notional(price: int, size: int) -> int:
    return price * size * NOTIONAL_SCALE


def cash_change(side: Side, price: int, size: int, fee: int) -> int:
    """What one fill does to cash: a buy pays the notional, a sell receives it; the fee is always paid."""
    return -side.sign * notional(price, size) - fee


def apply_fill(book: Book, side: Side, price: int, size: int) -> Book:
    """The book after one execution of `size` lots at `price` ticks (fees are kept apart from PnL)."""
    if size <= 0:
        raise ValueError(f"fill size must be positive, got {size}")
    open_lots = book.trading_position
    signed = side.sign * size
    basis, realized = book.cost_basis, book.realized_pnl
    if open_lots == 0 or (open_lots > 0) == (signed > 0):
        basis += side.sign * notional(price, size)
    else:
        closing = min(size, abs(open_lots))
        released = basis * closing // abs(open_lots)
        basis -= released
        realized += -side.sign * notional(price, closing) - released
        opening = size - closing
        if opening:
            basis += side.sign * notional(price, opening)
    return Book(book.opening_position, book.position + signed, basis, realized)
