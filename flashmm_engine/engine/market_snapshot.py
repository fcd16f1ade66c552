"""One market's state as plain JSON-ready values, read from a `MarketRunner` between cycles.

The Redis hot state and the InfluxDB points are built from it; it holds no secret (prices in ticks, sizes in
lots, money in notional units, names and counters only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flashmm_engine.engine.market_task import MarketRunner


def top_of_book(runner: MarketRunner) -> dict[str, int] | None:
    view = runner.last_view
    if view is None or view.top is None:
        return None
    top = view.top
    return {"bid": top.bid_price, "bid_size": top.bid_size, "ask": top.ask_price, "ask_size": top.ask_size}


def position(runner: MarketRunner) -> dict[str, int]:
    held = runner.holdings
    out = {"lots": runner.core.position}
    if held is not None:
        out |= {
            "trading_lots": held.book.trading_position,
            "realized_pnl": held.book.realized_pnl,
            "cost_basis": held.book.cost_basis,
            "cash": held.cash,
            "fees": held.fees,
        }
        view = runner.last_view
        if view is not None and view.top is not None:
            out["unrealized_pnl"] = held.book.unrealized_pnl(view.top.mid_x2 // 2)
    return out


def quotes(runner: MarketRunner) -> list[dict[str, int]]:
    return [
        {"side": int(o.side), "price": o.price, "size": o.size, "remaining": o.remaining, "level": o.level}
        for o in runner.core.working_orders()
    ]


def prediction(runner: MarketRunner) -> dict[str, Any] | None:
    view = runner.last_view
    p = view.prediction if view is not None else None
    if p is None:
        return None
    return {
        "version": p.version,
        "ts_ns": p.ts_ns,
        "horizons": list(p.horizons),
        "probs": [list(row) for row in p.probs],
        "expected_return_bps": p.expected_return_bps,
    }


def state(runner: MarketRunner) -> dict[str, Any]:
    risk = runner.core.state
    return {
        "state": risk.state.value,
        "reason": risk.reason,
        "since_ns": risk.since_ns,
        "ready": runner.ready,
    }


def model_version(runner: MarketRunner) -> str | None:
    return runner.inference.version if runner.inference is not None else None


def cycle_figures(runner: MarketRunner) -> dict[str, float | int]:
    stats = runner.stats
    out: dict[str, float | int] = {
        "cycles": stats.cycles,
        "missed_cycles": stats.missed_cycles,
        "batches": stats.batches,
        "fills": stats.fills_recorded,
        "book_messages": stats.book_messages,
        "send_errors": stats.send_errors,
        "model_errors": stats.model_errors,
    }
    for name, samples in (("cycle", stats.cycle_ns), ("tick_to_order", stats.tick_to_order_ns)):
        p99 = samples.percentile_us(99)
        if p99 is not None:
            out[f"{name}_p99_us"] = p99
    return out


def market_snapshot(runner: MarketRunner) -> dict[str, Any]:
    """Everything the hot state keeps for one market, by key suffix."""
    return {
        "top": top_of_book(runner),
        "position": position(runner),
        "quotes": quotes(runner),
        "model": {"version": model_version(runner)},
        "prediction": prediction(runner),
        "state": state(runner),
    }
