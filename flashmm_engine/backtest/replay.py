"""The replay event loop: a recorded capture drives a ReplayMarket while a strategy trades against it.

This loop is the backtester's hot path. It touches only locals; the session is consulted only when an
arrival, response or decision falls due, and the market does queue work only at our prices.
"""

from __future__ import annotations

from flashmm_engine.backtest.columns import CLEAR, LEVEL, EventColumns
from flashmm_engine.backtest.session import Session
from flashmm_engine.venues.sim.replay_market import ReplayMarket


def run_replay(columns: EventColumns, market: ReplayMarket, session: Session) -> int:
    """Feed every event to the market; returns the number of events processed."""
    on_level, on_trade, clear = market.on_level, market.on_trade, market.clear
    on_events, advance = session.on_exchange_events, session.advance
    wake = session.next_wake
    for kind, ts, side, price, size in zip(
        columns.kind, columns.ts, columns.side, columns.price, columns.size, strict=True
    ):
        if ts >= wake:
            advance(ts)
            wake = session.next_wake
        if kind == LEVEL:
            events = on_level(side, price, size, ts)
        elif kind == CLEAR:
            clear()
            events = on_level(side, price, size, ts)
        else:
            events = on_trade(side, price, size, ts)
        if events:
            on_events(events, ts)
            wake = session.next_wake
    return len(columns)
