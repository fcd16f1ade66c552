"""Where client orders meet a simulated market: the interface the backtest session and the sim venue's
drivers trade through, and its implementation for the synthetic mode (ReplayMarket is the replay one)."""

from __future__ import annotations

from typing import Protocol

from flashmm_engine.types import BookTop, CancelRequest, OrderRequest, Side
from flashmm_engine.venues.sim.matching import Events, MatchingEngine


class Exchange(Protocol):
    engine: MatchingEngine

    def submit(self, account: str, req: OrderRequest, ts: int) -> Events: ...

    def cancel(self, account: str, req: CancelRequest, ts: int) -> Events: ...

    def top(self) -> BookTop | None: ...


class EngineExchange:
    """The synthetic mode's exchange: our orders meet the agents' orders in the engine (true L3 FIFO)."""

    def __init__(self, engine: MatchingEngine, market: str) -> None:
        self.engine = engine
        self.market = market

    def submit(self, account: str, req: OrderRequest, ts: int) -> Events:
        return self.engine.submit(account, req, ts)

    def cancel(self, account: str, req: CancelRequest, ts: int) -> Events:
        return self.engine.cancel(account, req, ts)

    def top(self) -> BookTop | None:
        bid, ask = self.engine.best_bid(self.market), self.engine.best_ask(self.market)
        if bid is None or ask is None:
            return None
        size = self.engine.level_size
        return BookTop(bid, size(self.market, Side.BUY, bid), ask, size(self.market, Side.SELL, ask))
