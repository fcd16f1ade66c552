"""Backtest accounting from the exchange's side: fills, PnL after fees, inventory, markouts, uptime.

Every accounting quantity (cash, fees, cost basis, realized and unrealized PnL, equity, drawdown) is an
integer in notional units (types.NOTIONAL_SCALE per tick x lot). Quote-currency figures in the summary are
display conversions of those integers; the only computed non-integers are ratios (bps, rates).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from flashmm_engine.types import (
    NOTIONAL_SCALE,
    NS_PER_S,
    Ack,
    BookTop,
    CancelAck,
    CancelRequest,
    Fill,
    MarketSpec,
    OrderRequest,
    Side,
    VenueEvent,
)

MARKOUT_HORIZONS_S = (1, 5, 30)
HALF_SCALE = NOTIONAL_SCALE // 2
"""Notional units per (half tick x lot): marks are kept as twice the mid, so they stay integers."""


@dataclass(slots=True)
class Inventory:
    """Average-cost inventory in integer notional units.

    `cost` is the signed entry notional of the open position (negative when short). Closing `n` of `|p|`
    lots releases `cost * n // |p|` of it; the rounding remainder stays with the lots still open, so
    `cash + fees == realized - cost` holds exactly after every fill, and equity is always
    `realized - fees + unrealized` to the unit.
    """

    position: int = 0
    cash: int = 0
    fees: int = 0
    cost: int = 0
    realized: int = 0
    """Before fees."""

    def apply(self, side: Side, price: int, size: int, fee: int) -> None:
        signed = side.sign * size
        notional = price * NOTIONAL_SCALE
        self.cash -= signed * notional + fee
        self.fees += fee
        if self.position == 0 or (self.position > 0) == (signed > 0):
            self.cost += signed * notional
            self.position += signed
            return
        held = abs(self.position)
        closing = min(size, held)
        released = self.cost * closing // held
        direction = 1 if self.position > 0 else -1
        self.realized += direction * closing * notional - released
        self.cost -= released
        self.position += signed
        if closing < size:  # flipped through zero: the remainder opened at this price
            self.cost = self.position * notional

    def unrealized(self, mid2: int) -> int:
        return self.position * mid2 * HALF_SCALE - self.cost

    def equity(self, mid2: int) -> int:
        return self.cash + self.position * mid2 * HALF_SCALE


def max_drawdown(equity: list[int]) -> int:
    """Largest fall from a running peak, in the units of `equity` (0 for an empty or rising path)."""
    worst = 0
    peak = equity[0] if equity else 0
    for value in equity:
        peak = max(peak, value)
        worst = max(worst, peak - value)
    return worst


@dataclass
class BacktestReport:
    spec: MarketSpec
    inventory: Inventory = field(default_factory=Inventory)
    fills: list[tuple[int, int, int, int]] = field(default_factory=list)  # ts, side, price, size
    marks: list[tuple[int, int]] = field(default_factory=list)  # ts, twice the mid
    equity: list[int] = field(default_factory=list)  # notional units, at each decision
    position_path: list[int] = field(default_factory=list)
    orders_sent: int = 0
    cancels_sent: int = 0
    orders_filled: set[str] = field(default_factory=set)
    decisions: int = 0
    quoted_both: int = 0
    _live: dict[str, Side] = field(default_factory=dict)
    _sides: dict[str, Side] = field(default_factory=dict)

    def on_request(self, request: OrderRequest | CancelRequest) -> None:
        if isinstance(request, OrderRequest):
            self.orders_sent += 1
            self._sides[request.client_id] = request.side
        else:
            self.cancels_sent += 1

    def on_event(self, event: VenueEvent) -> None:
        if isinstance(event, Fill):
            self.inventory.apply(event.side, event.price, event.size, event.fee)
            self.fills.append((event.ts, event.side.sign, event.price, event.size))
            self.orders_filled.add(event.client_id)
            if event.remaining == 0:
                self._live.pop(event.client_id, None)
        elif isinstance(event, Ack):
            self._live[event.client_id] = self._sides[event.client_id]
        elif isinstance(event, CancelAck):
            self._live.pop(event.client_id, None)

    def on_decision(self, ts: int, top: BookTop | None) -> None:
        self.decisions += 1
        if set(self._live.values()) == {Side.BUY, Side.SELL}:
            self.quoted_both += 1
        if top is None:
            return
        mid2 = top.bid_price + top.ask_price
        self.marks.append((ts, mid2))
        self.equity.append(self.inventory.equity(mid2))
        self.position_path.append(self.inventory.position)

    def mark_final(self, ts: int, top: BookTop | None) -> None:
        """Value the end state at the book as it is after the last event (not the last decision's)."""
        if top is not None:
            self.marks.append((ts, top.bid_price + top.ask_price))

    def _quote(self, units: int) -> float:
        """Display conversion of an integer notional amount to the quote currency."""
        return float(self.spec.notional_to_quote(units))

    def markout_bps(self, horizon_s: int) -> float | None:
        times = [t for t, _ in self.marks]
        values = []
        for ts, side, price, _ in self.fills:
            i = bisect.bisect_left(times, ts + horizon_s * NS_PER_S)
            if i < len(times):
                values.append(side * (self.marks[i][1] / 2 - price) / price * 1e4)
        return sum(values) / len(values) if values else None

    def summary(self) -> dict[str, Any]:
        inv = self.inventory
        mid2 = self.marks[-1][1] if self.marks else 0
        pnl = inv.equity(mid2) if self.marks else 0
        realized = inv.realized - inv.fees
        unrealized = inv.unrealized(mid2) if inv.position else 0
        drawdown = max_drawdown(self.equity)
        lots = sum(f[3] for f in self.fills)
        max_lots = max((abs(p) for p in self.position_path), default=0)
        return {
            "decisions": self.decisions,
            "fills": len(self.fills),
            "volume": float(self.spec.lots_to_size(lots)),
            "volume_quote": self._quote(sum(f[2] * f[3] for f in self.fills) * NOTIONAL_SCALE),
            "pnl": self._quote(pnl),
            "realized_pnl": self._quote(realized),  # after fees
            "unrealized_pnl": self._quote(unrealized),
            "fees": self._quote(inv.fees),
            "max_drawdown": self._quote(drawdown),
            "pnl_units": pnl,
            "realized_pnl_units": realized,
            "unrealized_pnl_units": unrealized,
            "fees_units": inv.fees,
            "max_drawdown_units": drawdown,
            "position": float(self.spec.lots_to_size(inv.position)),
            "max_position": float(self.spec.lots_to_size(max_lots)),
            "orders": self.orders_sent,
            "cancels": self.cancels_sent,
            "fill_ratio": len(self.orders_filled) / self.orders_sent if self.orders_sent else 0.0,
            "quote_uptime": self.quoted_both / self.decisions if self.decisions else 0.0,
            **{f"markout_{h}s_bps": self.markout_bps(h) for h in MARKOUT_HORIZONS_S},
        }
