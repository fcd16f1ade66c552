"""What the daily report reads from the SQL store: the day's fills per market, the position before the day,
the model versions live that day, and (when the table exists) paired production/shadow predictions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from flashmm_engine.db.engine import make_engine
from flashmm_engine.ledger import tables as t
from flashmm_engine.models.registry import ModelRegistry
from flashmm_engine.reports.attribution import LedgerFill

PREDICTIONS_TABLE = "model_predictions"


@dataclass(frozen=True, slots=True)
class MarketDay:
    market: str
    fills: list[LedgerFill]
    start_position: int


def market_days(url: str, start_ns: int, end_ns: int) -> list[MarketDay]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(t.fills.name):
                return []
            f = t.fills.c
            rows = conn.execute(
                sa.select(f.market, f.ts, f.side, f.price, f.size, f.fee)
                .where(f.ts >= start_ns, f.ts < end_ns)
                .order_by(f.market, f.ts, f.id)
            ).all()
            totals = conn.execute(
                sa.select(f.market, sa.func.sum(f.side * f.size)).where(f.ts < start_ns).group_by(f.market)
            ).all()
            before: dict[str, int] = {str(m): int(v or 0) for m, v in totals}
    finally:
        engine.dispose()
    days: dict[str, list[LedgerFill]] = {}
    for market, ts, side, price, size, fee in rows:
        days.setdefault(market, []).append(LedgerFill(int(ts), int(side), int(price), int(size), int(fee)))
    return [MarketDay(m, fills, before.get(m, 0)) for m, fills in days.items()]


def live_versions(url: str, name: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The version in production when the day began, and every version promoted during the day."""
    registry = ModelRegistry(url)
    try:
        rows = [v for v in registry.list(name) if v.promoted_at is not None]
    finally:
        registry.close()
    rows.sort(key=lambda v: v.promoted_at or start)
    at_start = [v for v in rows if v.promoted_at is not None and v.promoted_at < start][-1:]
    during = [v for v in rows if v.promoted_at is not None and start <= v.promoted_at < end]
    return [
        {
            "version": v.version,
            "stage_now": v.stage,
            "promoted_at": v.promoted_at.isoformat() if v.promoted_at else None,
            "path": v.path,
            "live_from": "before the day" if v in at_start else "promoted that day",
        }
        for v in at_start + during
    ]


def shadow_rows(url: str, start_ns: int, end_ns: int) -> list[dict[str, Any]] | None:
    """Paired predictions of the day, or None when the engine has no shadow table."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(PREDICTIONS_TABLE):
                return None
            table = sa.Table(PREDICTIONS_TABLE, sa.MetaData(), autoload_with=conn)
            rows = conn.execute(
                sa.select(table)
                .where(table.c.ts_ns >= start_ns, table.c.ts_ns < end_ns)
                .order_by(table.c.ts_ns)
            ).mappings()
            return [dict(r) for r in rows]
    finally:
        engine.dispose()


def shadow_accuracy(rows: list[dict[str, Any]], horizon_ns: int) -> dict[str, Any]:
    """Direction accuracy on moves of production and shadow: each row's argmax (down/up of the first
    horizon) against the sign of the mid's change by the first row at least `horizon_ns` later."""
    by_market: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_market.setdefault(row["market"], []).append(row)
    hits = {"production": [0, 0], "shadow": [0, 0]}
    for market_rows in by_market.values():
        times = [r["ts_ns"] for r in market_rows]
        for i, row in enumerate(market_rows):
            j = _first_at_or_after(times, times[i] + horizon_ns, i)
            if j is None:
                continue
            move = market_rows[j]["mid_x2"] - row["mid_x2"]
            if move == 0:
                continue
            for who in hits:
                probs = row.get(f"{who}_probs")
                direction = _direction(probs)
                if direction is None:
                    continue
                hits[who][1] += 1
                hits[who][0] += int(direction == (1 if move > 0 else -1))
    return {who: {"moves": n, "accuracy": (k / n if n else None)} for who, (k, n) in hits.items()}


def _first_at_or_after(times: list[int], target: int, start: int) -> int | None:
    for j in range(start + 1, len(times)):
        if times[j] >= target:
            return j
    return None


def _direction(probs: Any) -> int | None:
    """[down, flat, up] (or a list of them per horizon: the first) -> -1 or +1 by down vs up."""
    if not probs:
        return None
    first = probs[0] if isinstance(probs[0], list) else probs
    if len(first) != 3:
        return None
    return 1 if first[2] > first[0] else -1
