"""The replay event loop: a recorded capture drives a ReplayMarket while a strategy trades against it.

This loop is the backtester's hot path. It touches only locals; the session is consulted only when an
arrival, response or decision falls due, and the market does queue work only at our prices.
"""

from __future__ import annotations

import bisect

from flashmm_engine.backtest.feeds import MarketTime
from flashmm_engine.backtest.session import Session
from flashmm_engine.venues.sim.replay_columns import EventColumns
from flashmm_engine.venues.sim.replay_market import ReplayMarket


def run_replay(columns: EventColumns, market: ReplayMarket, session: Session, market_time: MarketTime) -> int:
    """Feed every event to the market in batches that end where the session next needs to act;
    returns the number of events processed. `market_time` tells the session's feed how fresh the book is."""
    stamps, total = columns.ts, len(columns)
    run, advance, on_events = market.run, session.advance, session.on_exchange_events
    i = 0
    while i < total:
        wake = session.next_wake
        if stamps[i] >= wake:
            market_time.ts = stamps[i - 1] if i else None
            advance(stamps[i])
            continue
        i, events = run(columns, i, bisect.bisect_left(stamps, wake, i, total))
        if events:
            on_events(events, stamps[i - 1])
    return total
