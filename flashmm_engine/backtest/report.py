"""Backtest accounting from the exchange's side: fills, PnL after fees, inventory, markouts, uptime.

Cash is integer notional units (types.NOTIONAL_SCALE); results are converted to floats only for the report.
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


@dataclass(slots=True)
class _Inventory:
    position: int = 0
    cash: int = 0
    fees: int = 0
    cost_ticks: float = 0.0
    """Average entry price of the open position, in ticks (for realized vs unrealized)."""
    realized_ticks_lots: float = 0.0

    def apply(self, side: Side, price: int, size: int, fee: int) -> None:
        signed = side.sign * size
        self.cash -= signed * price * NOTIONAL_SCALE + fee
        self.fees += fee
        if self.position == 0 or (self.position > 0) == (signed > 0):
            total = self.position + signed
            self.cost_ticks = (self.cost_ticks * abs(self.position) + price * size) / abs(total)
            self.position = total
            return
        closing = min(size, abs(self.position))
        self.realized_ticks_lots += closing * (price - self.cost_ticks) * (1 if self.position > 0 else -1)
        self.position += signed
        if self.position == 0:
            self.cost_ticks = 0.0
        elif (self.position > 0) == (signed > 0):
            self.cost_ticks = float(price)  # flipped through zero: the remainder opened at this price


@dataclass
class BacktestReport:
    spec: MarketSpec
    inventory: _Inventory = field(default_factory=_Inventory)
    fills: list[tuple[int, int, int, int]] = field(default_factory=list)  # ts, side, price, size
    marks: list[tuple[int, int]] = field(default_factory=list)  # ts, twice the mid
    equity: list[float] = field(default_factory=list)
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
        self.equity.append(self._equity_units(mid2))
        self.position_path.append(self.inventory.position)

    def mark_final(self, ts: int, top: BookTop | None) -> None:
        """Value the end state at the book as it is after the last event (not the last decision's)."""
        if top is not None:
            self.marks.append((ts, top.bid_price + top.ask_price))

    def _equity_units(self, mid2: int) -> float:
        return self.inventory.cash + self.inventory.position * mid2 * NOTIONAL_SCALE / 2

    def _quote(self, units: float) -> float:
        return float(self.spec.tick_size * self.spec.lot_size) * units / NOTIONAL_SCALE

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
        unrealized_ticks_lots = inv.position * (mid2 / 2 - inv.cost_ticks) if inv.position else 0.0
        peak, max_dd = float("-inf"), 0.0
        for value in self.equity:
            peak = max(peak, value)
            max_dd = max(max_dd, peak - value)
        lots = sum(f[3] for f in self.fills)
        return {
            "decisions": self.decisions,
            "fills": len(self.fills),
            "volume": float(self.spec.lot_size * lots),
            "volume_quote": self._quote(sum(f[2] * f[3] for f in self.fills) * NOTIONAL_SCALE),
            "pnl": self._quote(self._equity_units(mid2)) if self.marks else 0.0,
            "realized_pnl": self._quote(inv.realized_ticks_lots * NOTIONAL_SCALE - inv.fees),  # after fees
            "unrealized_pnl": self._quote(unrealized_ticks_lots * NOTIONAL_SCALE),
            "fees": self._quote(inv.fees),
            "position": float(self.spec.lot_size * inv.position),
            "max_position": float(self.spec.lot_size) * max((abs(p) for p in self.position_path), default=0),
            "max_drawdown": self._quote(max_dd),
            "orders": self.orders_sent,
            "cancels": self.cancels_sent,
            "fill_ratio": len(self.orders_filled) / self.orders_sent if self.orders_sent else 0.0,
            "quote_uptime": self.quoted_both / self.decisions if self.decisions else 0.0,
            **{f"markout_{h}s_bps": self.markout_bps(h) for h in MARKOUT_HORIZONS_S},
        }
