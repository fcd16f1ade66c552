"""PnL attribution: the parts sum to the total, and the total equals the ledger's own arithmetic
(cash from `cash_change` plus the position marked at the last mid)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from flashmm_engine.ledger.pnl import cash_change
from flashmm_engine.reports.attribution import LedgerFill, MidPath, attribute, markouts_bps, spread_captured
from flashmm_engine.types import NOTIONAL_SCALE, Side

S = 1_000_000_000


def test_hand_computed_day() -> None:
    # mid 100.0 ticks (x2 = 200); buy 2 lots at 99 (1 tick under mid), the mid falls to 98 within 5 s
    # (adverse), sell 2 at 99 later (1 tick over the mid of 98) and end flat at mid 98.
    mids = MidPath([0, 3 * S, 20 * S, 30 * S], [200, 196, 196, 196])
    fills = [LedgerFill(1 * S, 1, 99, 2, 10), LedgerFill(21 * S, -1, 99, 2, 10)]
    parts = attribute(fills, mids, 0, 0, 30 * S)
    assert parts.spread == (2 * 1 + 2 * 1) * NOTIONAL_SCALE
    assert parts.adverse_selection == 2 * (98 - 100) * NOTIONAL_SCALE  # only the buy: the sell's mid stays
    assert parts.fees == -20
    assert parts.total == -20  # bought and sold at 99: only the fees
    assert parts.spread + parts.inventory + parts.adverse_selection + parts.fees == parts.total
    # 5 s after the buy the mid is 98: -1 tick; 5 s after the sell it is still 98: +1 tick
    assert markouts_bps(fills, mids)["markout_5s_bps"] == ((98 - 99) / 99 * 1e4 + (99 - 98) / 99 * 1e4) / 2
    assert spread_captured(fills, mids)["spread_captured_ticks"] == 1.0


fill = st.tuples(st.integers(1, 10_000), st.sampled_from([1, -1]), st.integers(90, 110), st.integers(1, 5),
                 st.integers(0, 1_000))  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    fills=st.lists(fill, max_size=30),
    mid_moves=st.lists(st.tuples(st.integers(1, 10_000), st.integers(180, 220)), min_size=1, max_size=40),
    start_position=st.integers(-5, 5),
)
def test_parts_sum_to_the_ledger_total(
    fills: list[tuple[int, int, int, int, int]], mid_moves: list[tuple[int, int]], start_position: int
) -> None:
    ordered = sorted(fills)
    day = [LedgerFill(ts * 1_000_000, side, price, size, fee) for ts, side, price, size, fee in ordered]
    marks = sorted(mid_moves)
    mids = MidPath([0] + [t * 1_000_000 for t, _ in marks], [200] + [m for _, m in marks])
    end_ns = 20 * S
    parts = attribute(day, mids, start_position, 0, end_ns)
    assert parts.spread + parts.inventory + parts.adverse_selection + parts.fees == parts.total
    cash = sum(cash_change(Side.BUY if f.side > 0 else Side.SELL, f.price, f.size, f.fee) for f in day)
    end_position = start_position + sum(f.side * f.size for f in day)
    m0, m1 = mids.at(0), mids.at(end_ns)
    assert m0 is not None and m1 is not None
    marked = (end_position * m1 - start_position * m0) * NOTIONAL_SCALE // 2
    assert parts.total == cash + marked
