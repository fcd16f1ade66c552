"""Integer position and PnL arithmetic: hand-computed cases and conservation over random fills."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flashmm_engine.ledger.pnl import Book, apply_fill, cash_change
from flashmm_engine.types import NOTIONAL_SCALE, Side

S = NOTIONAL_SCALE


def test_partial_close_realizes_the_price_difference() -> None:
    book = apply_fill(Book(), Side.BUY, 100, 10)
    book = apply_fill(book, Side.SELL, 110, 4)
    assert book.trading_position == 6
    assert book.realized_pnl == 4 * 10 * S
    assert book.cost_basis == 6 * 100 * S
    assert book.unrealized_pnl(120) == 6 * 20 * S


def test_flip_from_long_to_short_opens_the_rest_at_the_fill_price() -> None:
    book = apply_fill(Book(opening_position=7, position=7), Side.BUY, 100, 5)
    book = apply_fill(book, Side.SELL, 90, 8)
    assert book.position == 4 and book.trading_position == -3
    assert book.realized_pnl == -5 * 10 * S
    assert book.cost_basis == -3 * 90 * S
    assert book.unrealized_pnl(80) == 3 * 10 * S


def test_short_cover_realizes_a_gain_when_the_price_fell() -> None:
    book = apply_fill(Book(), Side.SELL, 200, 3)
    book = apply_fill(book, Side.BUY, 150, 3)
    assert book.trading_position == 0 and book.cost_basis == 0
    assert book.realized_pnl == 3 * 50 * S


fills = st.lists(
    st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.integers(1, 10**6), st.integers(1, 10**4)),
    max_size=60,
)


@given(fills, st.integers(-(10**5), 10**5))
def test_realized_minus_basis_equals_cash_flows_exactly(
    trades: list[tuple[Side, int, int]], opening: int
) -> None:
    book, flows = Book(opening, opening), 0
    for side, price, size in trades:
        book = apply_fill(book, side, price, size)
        flows += cash_change(side, price, size, fee=0)
    assert book.realized_pnl - book.cost_basis == flows
    assert book.position - opening == sum(s.sign * q for s, _, q in trades)
    if book.trading_position == 0:
        assert book.cost_basis == 0
