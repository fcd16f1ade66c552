"""Fill-level trading figures in integer notional units: markouts, spread captured, and a PnL attribution
whose parts (spread capture, inventory, adverse selection, fees) sum exactly to the total.

Mids are kept doubled (`mid_x2`, bid + ask in ticks), so every amount here is in half notional units:
value_x2 = side * lots * (mid_x2 - 2 * price) * NOTIONAL_SCALE, halved once at the end (exact, since
NOTIONAL_SCALE is even).

For fills f (sign s: +1 buy, -1 sell), starting trading position p0 at mid m0 and ending p1 at m1:
  total    = cash + p1*m1 - p0*m0
  spread   = sum s*q*(m_f - price)          what each fill earned against the mid at its time
  adverse  = sum s*q*(m_{f+h} - m_f)        the mid's move in the fill's direction over h seconds
  inventory= (p1*m1 - p0*m0 - sum s*q*m_f) - adverse   holding the position through the rest of the day
  fees     = -sum fee
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flashmm_engine.types import NOTIONAL_SCALE

MARKOUT_HORIZONS_S = (1, 5, 30)
ADVERSE_HORIZON_S = 5
NS_PER_S = 1_000_000_000


@dataclass(frozen=True, slots=True)
class LedgerFill:
    ts: int
    side: int  # +1 buy, -1 sell
    price: int  # ticks
    size: int  # lots
    fee: int  # notional units


@dataclass(frozen=True, slots=True)
class MidPath:
    ts: Sequence[int]
    mid_x2: Sequence[int]

    def at(self, ts: int) -> int | None:
        """The last mid at or before ts (None before the first)."""
        i = bisect.bisect_right(self.ts, ts) - 1
        return self.mid_x2[i] if i >= 0 else None

    def after(self, ts: int) -> int | None:
        """The mid in force at ts, or None when ts is past the end of the path."""
        if not self.ts or ts > self.ts[-1]:
            return None
        return self.at(ts)


@dataclass(frozen=True, slots=True)
class Attribution:
    total: int
    spread: int
    inventory: int
    adverse_selection: int
    fees: int
    """Notional units; spread + inventory + adverse_selection + fees == total exactly."""

    def as_dict(self) -> dict[str, int]:
        return {
            "spread_capture": self.spread,
            "inventory": self.inventory,
            "adverse_selection": self.adverse_selection,
            "fees": self.fees,
            "total": self.total,
        }


def attribute(
    fills: Sequence[LedgerFill], mids: MidPath, start_position: int, start_ts: int, end_ts: int
) -> Attribution:
    """PnL of the day [start_ts, end_ts) from the fills and the mid path (a fill with no mid before it is
    valued at its own price)."""
    m0 = _mid(mids, start_ts, fills[0].price * 2 if fills else 0)
    m1 = _mid(mids, end_ts, fills[-1].price * 2 if fills else m0)
    cash_x2 = sum(-f.side * f.price * f.size * NOTIONAL_SCALE * 2 for f in fills)
    fees = -sum(f.fee for f in fills)
    end_position = start_position + sum(f.side * f.size for f in fills)
    marks_x2 = (end_position * m1 - start_position * m0) * NOTIONAL_SCALE
    spread_x2 = adverse_x2 = at_mid_x2 = 0
    for f in fills:
        m_f = _mid(mids, f.ts, f.price * 2)
        later = mids.after(f.ts + ADVERSE_HORIZON_S * NS_PER_S)
        m_h = m1 if later is None else later
        spread_x2 += f.side * f.size * (m_f - 2 * f.price) * NOTIONAL_SCALE
        adverse_x2 += f.side * f.size * (m_h - m_f) * NOTIONAL_SCALE
        at_mid_x2 += f.side * f.size * m_f * NOTIONAL_SCALE
    inventory_x2 = marks_x2 - at_mid_x2 - adverse_x2
    total = (cash_x2 + marks_x2) // 2 + fees
    return Attribution(total, spread_x2 // 2, inventory_x2 // 2, adverse_x2 // 2, fees)


def _mid(mids: MidPath, ts: int, default: int) -> int:
    found = mids.at(ts)
    return default if found is None else found


def markouts_bps(fills: Sequence[LedgerFill], mids: MidPath) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for h in MARKOUT_HORIZONS_S:
        values = [
            f.side * (later / 2 - f.price) / f.price * 1e4
            for f in fills
            if (later := mids.after(f.ts + h * NS_PER_S)) is not None and f.price
        ]
        out[f"markout_{h}s_bps"] = sum(values) / len(values) if values else None
    return out


def spread_captured(fills: Sequence[LedgerFill], mids: MidPath) -> dict[str, float | None]:
    ticks = [f.side * (_mid(mids, f.ts, 2 * f.price) / 2 - f.price) for f in fills]
    bps = [t / f.price * 1e4 for t, f in zip(ticks, fills, strict=True) if f.price]
    return {
        "spread_captured_ticks": sum(ticks) / len(ticks) if ticks else None,
        "spread_captured_bps": sum(bps) / len(bps) if bps else None,
    }


def inventory_path(fills: Sequence[LedgerFill], start_position: int) -> list[tuple[int, int]]:
    position, path = start_position, []
    for f in fills:
        position += f.side * f.size
        path.append((f.ts, position))
    return path


def summary(fills: Sequence[LedgerFill], mids: MidPath, start_position: int) -> dict[str, Any]:
    path = inventory_path(fills, start_position)
    return {
        "fills": len(fills),
        "volume_lots": sum(f.size for f in fills),
        "buys": sum(1 for f in fills if f.side > 0),
        "sells": sum(1 for f in fills if f.side < 0),
        "max_abs_position_lots": max((abs(p) for _, p in path), default=abs(start_position)),
        "end_position_lots": path[-1][1] if path else start_position,
        **markouts_bps(fills, mids),
        **spread_captured(fills, mids),
    }
