"""Synthetic order flow: a queue-reactive market around a mean-reverting fair value with jumps.

Agents (one engine account) send limit, market and cancel orders at Poisson times. Their mix reacts to
the book and to a hidden fair value: when fair value sits above the mid, buy market orders and bid-side
limit orders become more likely, so the bid queue grows while the ask queue is eaten. That is what gives
top-of-book imbalance its short-horizon predictive power, as in real books (queue-reactive models,
Huang, Lehalle & Rosenbaum 2015), and what a model can learn.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from flashmm_engine.types import NS_PER_S, CancelRequest, OrderRequest, Side, TimeInForce
from flashmm_engine.venues.sim.matching import Events, MatchingEngine

MAKERS = tuple(f"flow-maker-{i}" for i in range(8))
TAKER = "flow-taker"
FLOW_ACCOUNTS = (*MAKERS, TAKER)
"""Several agent accounts: self-trade prevention would otherwise stop the market trading with itself."""
FLOW_FUNDS = 10**30
"""The agents' balances: effectively unlimited, they stand for the rest of the market."""


@dataclass(frozen=True, slots=True)
class SyntheticParams:
    start_price: int = 50_000
    """Initial fair value in ticks."""
    event_rate_per_s: float = 120.0
    depth_levels: int = 10
    mean_reversion_per_s: float = 0.01
    fair_vol_ticks_per_sqrt_s: float = 4.0
    jump_rate_per_s: float = 0.02
    jump_mean_ticks: float = 6.0
    pressure_ticks: float = 2.0
    """Fair-value gap (ticks) at which order flow leans strongly to one side."""
    market_order_share: float = 0.12
    cancel_share: float = 0.38
    max_order_lots: int = 20
    imbalance_feedback: float = 0.8
    """Weight of top-of-book imbalance in the takers' choice of side: takers race for the thin queue."""


class SyntheticFlow:
    def __init__(
        self, engine: MatchingEngine, market: str, params: SyntheticParams, seed: int, start_ns: int
    ):
        self.engine = engine
        self.market = market
        self.params = params
        self.rng = random.Random(seed)
        self.fair = float(params.start_price)
        self.now = start_ns
        self._next = start_ns
        self._ids = 0
        for account in FLOW_ACCOUNTS:
            engine.fund(account, market, base=FLOW_FUNDS, quote=FLOW_FUNDS)
        self._seed_book()
        self._schedule()

    def next_time(self) -> int:
        return self._next

    def step(self) -> Events:
        """Advance to the next flow event and execute it; returns every engine event it caused."""
        dt_s = (self._next - self.now) / NS_PER_S
        self.now = self._next
        self._evolve_fair(dt_s)
        events = self._act()
        self._schedule()
        return events

    # --- fair value and timing ---

    def _schedule(self) -> None:
        gap_s = self.rng.expovariate(self.params.event_rate_per_s)
        self._next = self.now + max(1, round(gap_s * NS_PER_S))

    def _evolve_fair(self, dt_s: float) -> None:
        p = self.params
        self.fair += -p.mean_reversion_per_s * (self.fair - p.start_price) * dt_s
        self.fair += p.fair_vol_ticks_per_sqrt_s * math.sqrt(dt_s) * self.rng.gauss(0.0, 1.0)
        if self.rng.random() < p.jump_rate_per_s * dt_s:
            self.fair += self.rng.choice((-1, 1)) * self.rng.expovariate(1.0 / p.jump_mean_ticks)

    # --- agent actions ---

    def _act(self) -> Events:
        bid, ask = self.engine.best_bid(self.market), self.engine.best_ask(self.market)
        if bid is None or ask is None:
            return self._refill(bid, ask)
        lean = math.tanh((self.fair - (bid + ask) / 2) / self.params.pressure_ticks)  # -1..1, + = buy
        if ask - bid > 1 and self.rng.random() < 0.5:
            return self._improve(bid, ask, lean)
        u = self.rng.random()
        p = self.params
        if u < p.market_order_share:
            w = p.imbalance_feedback
            side = (
                Side.BUY
                if self.rng.random() < (1 + (1 - w) * lean + w * self._imbalance(bid, ask)) / 2
                else Side.SELL
            )
            return self._market_order(side, bid, ask)
        if u < p.market_order_share + p.cancel_share:
            side = Side.BUY if self.rng.random() < (1 - lean) / 2 else Side.SELL
            return self._cancel_one(side)
        side = Side.BUY if self.rng.random() < (1 + lean) / 2 else Side.SELL
        return self._add_limit(side, bid if side is Side.BUY else ask)

    def _imbalance(self, bid: int, ask: int) -> float:
        qb = self.engine.level_size(self.market, Side.BUY, bid)
        qa = self.engine.level_size(self.market, Side.SELL, ask)
        return (qb - qa) / (qb + qa)

    def _improve(self, bid: int, ask: int, lean: float) -> Events:
        w = self.params.imbalance_feedback
        imbalance = self._imbalance(bid, ask)
        side = Side.BUY if self.rng.random() < (1 + (1 - w) * lean + w * imbalance) / 2 else Side.SELL
        price = bid + 1 if side is Side.BUY else ask - 1
        return self._limit(side, price, self._size())

    def _add_limit(self, side: Side, best: int) -> Events:
        level = min(int(self.rng.expovariate(0.6)), self.params.depth_levels - 1)
        return self._limit(side, best - side.sign * level, self._size())

    def _market_order(self, side: Side, bid: int, ask: int) -> Events:
        touch = ask if side is Side.BUY else bid
        queue = self.engine.level_size(self.market, side.opposite, touch)
        size = max(1, min(queue, self._size()) if self.rng.random() < 0.7 else queue)
        return self._order(side, touch, size, TimeInForce.IOC, TAKER)

    def _cancel_one(self, side: Side) -> Events:
        """Each resting agent order near the touch is equally likely to be pulled (cancel rate grows with
        queue size); orders left far behind by the price are purged."""
        prices = self.engine.level_prices(self.market, side)
        near = [
            o
            for p in prices[: self.params.depth_levels]
            for o in self.engine.level_orders(self.market, side, p)
        ]
        mine = [o for o in near if o.account in MAKERS]
        events: Events = []
        for price in prices[self.params.depth_levels * 3 :]:
            for order in self.engine.level_orders(self.market, side, price):
                if order.account in MAKERS:
                    events += self.engine.cancel(
                        order.account, CancelRequest(order.client_id, self.market), self.now
                    )
        if mine:
            victim = self.rng.choice(mine)
            events += self.engine.cancel(
                victim.account, CancelRequest(victim.client_id, self.market), self.now
            )
        return events

    def _refill(self, bid: int | None, ask: int | None) -> Events:
        centre = round(self.fair)
        if bid is None:
            return self._limit(Side.BUY, (ask - 1) if ask is not None else centre - 1, self._size())
        return self._limit(Side.SELL, bid + 1, self._size())

    def _seed_book(self) -> None:
        centre = round(self.fair)
        for level in range(self.params.depth_levels):
            self._limit(Side.BUY, centre - 1 - level, self._size() * 2)
            self._limit(Side.SELL, centre + 1 + level, self._size() * 2)

    def _size(self) -> int:
        return 1 + min(int(self.rng.expovariate(1 / 4)), self.params.max_order_lots - 1)

    def _limit(self, side: Side, price: int, size: int) -> Events:
        return self._order(side, price, size, TimeInForce.GTC)

    def _order(self, side: Side, price: int, size: int, tif: TimeInForce, account: str = "") -> Events:
        self._ids += 1
        request = OrderRequest(f"flow-{self._ids}", self.market, side, max(1, price), size, tif)
        return self.engine.submit(account or self.rng.choice(MAKERS), request, self.now)
