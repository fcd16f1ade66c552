"""What moves the sim venue's market between client orders: synthetic agents, or a replayed capture.

A driver exposes the exchange (where client orders go), the next event time on the venue clock, a step,
and the public book and trades for market data.
"""

from __future__ import annotations

from typing import Protocol

from flashmm_engine.marketdata.book import ASK, BID, best_levels
from flashmm_engine.types import Side, Trade
from flashmm_engine.venues.sim.exchange import Exchange
from flashmm_engine.venues.sim.matching import Events, MatchingEngine
from flashmm_engine.venues.sim.replay_columns import TRADE, EventColumns
from flashmm_engine.venues.sim.replay_market import ReplayMarket
from flashmm_engine.venues.sim.synthetic import SyntheticFlow

Levels = list[tuple[int, int]]


class MarketDriver(Protocol):
    @property
    def exchange(self) -> Exchange: ...

    @property
    def market(self) -> str: ...

    def next_time(self) -> int | None: ...

    def step(self) -> Events: ...

    def depth(self, levels: int) -> tuple[Levels, Levels]: ...

    def take_trades(self) -> list[Trade]: ...


class SyntheticDriver:
    def __init__(self, flow: SyntheticFlow, exchange: Exchange) -> None:
        self.flow = flow
        self.exchange = exchange
        self.market = flow.market
        self._engine: MatchingEngine = flow.engine

    def next_time(self) -> int | None:
        return self.flow.next_time()

    def step(self) -> Events:
        return self.flow.step()

    def depth(self, levels: int) -> tuple[Levels, Levels]:
        return self._engine.depth(self.market, levels)

    def take_trades(self) -> list[Trade]:
        return self._engine.take_public_trades()


class ReplayDriver:
    """Replays merged capture columns through a ReplayMarket; the venue clock is the capture's clock."""

    def __init__(self, columns: EventColumns, market: ReplayMarket) -> None:
        self.columns = columns
        self.exchange = market
        self.replay = market
        self.market = market.market
        self._i = 0
        self._trades: list[Trade] = []

    def next_time(self) -> int | None:
        return self.columns.ts[self._i] if self._i < len(self.columns) else None

    def step(self) -> Events:
        c, i = self.columns, self._i
        if c.kind[i] == TRADE:
            self._trades.append(
                Trade(c.ts[i], c.ts[i], self.market, c.price[i], c.size[i], Side(c.side[i]), i)
            )
        self._i, events = self.replay.run(c, i, i + 1)
        return events

    def depth(self, levels: int) -> tuple[Levels, Levels]:
        return best_levels(self.replay.bids, BID, levels), best_levels(self.replay.asks, ASK, levels)

    def take_trades(self) -> list[Trade]:
        trades, self._trades = self._trades, []
        return trades
