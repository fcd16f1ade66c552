"""A recorded market that our orders trade against through a queue-position model.

The recorded book (levels from snapshot + diffs, trades) is outside liquidity; our orders rest in the
MatchingEngine (which does their validation, balances, fees and events) and each carries a QueuePos.
Fill rules (the same as hftbacktest's no-partial-fill exchange, so the two can be compared):
- a trade at our price advances our queue; when the queue ahead is exhausted by at least one lot we fill;
- a trade through our price, or the opposite side of the book reaching our price, fills us at our price;
- an order that crosses the recorded book on arrival takes liquidity (post-only ones are rejected).
With `partial_fills` a queue fill executes only the quantity that got past us; otherwise the whole order.
"""

from __future__ import annotations

from flashmm_engine.marketdata.book import ASK, BID, find_best
from flashmm_engine.types import BookTop, CancelRequest, OrderRequest, RejectReason, Side, TimeInForce
from flashmm_engine.venues.sim.book import RestingOrder
from flashmm_engine.venues.sim.matching import Events, MatchingEngine
from flashmm_engine.venues.sim.queue import QueueModel, QueuePos
from flashmm_engine.venues.sim.replay_columns import ASK_LEVEL, BID_LEVEL, LEVEL, TRADE_EVENT, EventColumns

NO_BID = -(2**62)
NO_ASK = 2**62
_NO_EVENTS: Events = []

Tracked = tuple[RestingOrder, QueuePos]


class ReplayMarket:
    def __init__(self, engine: MatchingEngine, market: str, queue: QueueModel, partial_fills: bool) -> None:
        self.engine = engine
        self.market = market
        self.queue = queue
        self.partial_fills = partial_fills
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self._ours_bid: dict[int, list[Tracked]] = {}
        self._ours_ask: dict[int, list[Tracked]] = {}
        self._ours = {1: self._ours_bid, -1: self._ours_ask}
        self.max_our_bid = NO_BID
        self.min_our_ask = NO_ASK
        self._best_bid, self._best_ask = NO_BID, NO_ASK
        self._bid_dirty = self._ask_dirty = False

    # --- the recorded market ---

    def clear(self) -> None:
        """A new snapshot starts a new book."""
        self.bids.clear()
        self.asks.clear()
        self._best_bid, self._best_ask = NO_BID, NO_ASK
        self._bid_dirty = self._ask_dirty = False

    def on_level(self, side: int, price: int, size: int, ts: int) -> Events:
        """One level of the recorded book set to an absolute size (0 removes it)."""
        code = BID_LEVEL if side == 1 else ASK_LEVEL
        return self.run(EventColumns([LEVEL], [ts], [side], [price], [size], [code]), 0, 1)[1]

    def run(self, columns: EventColumns, start: int, stop: int) -> tuple[int, Events]:
        """Apply events start..stop-1 of a replay. Returns early, with the index to resume from, just after
        an event that produced venue events (fills). This is the backtester's hot path: the common case is
        a few dict operations on locals, and queue work happens only at our own prices."""
        codes, prices, sizes = columns.code, columns.price, columns.size
        bids, asks, ours_bid, ours_ask = self.bids, self.asks, self._ours_bid, self._ours_ask
        best_bid, best_ask = self._best_bid, self._best_ask
        min_our_ask, max_our_bid = self.min_our_ask, self.max_our_bid
        events = _NO_EVENTS
        for i in range(start, stop):
            code = codes[i]
            if code == BID_LEVEL:
                price, size = prices[i], sizes[i]
                if price in ours_bid:
                    self._requeue(ours_bid[price], bids.get(price, 0), size)
                if size:
                    bids[price] = size
                    if price > best_bid:
                        best_bid, self._bid_dirty = price, False
                    if price >= min_our_ask:
                        events = self._fill_through(-1, price, columns.ts[i])
                elif price in bids:
                    del bids[price]
                    if price == best_bid:
                        self._bid_dirty = True
            elif code == ASK_LEVEL:
                price, size = prices[i], sizes[i]
                if price in ours_ask:
                    self._requeue(ours_ask[price], asks.get(price, 0), size)
                if size:
                    asks[price] = size
                    if price < best_ask:
                        best_ask, self._ask_dirty = price, False
                    if price <= max_our_bid:
                        events = self._fill_through(1, price, columns.ts[i])
                elif price in asks:
                    del asks[price]
                    if price == best_ask:
                        self._ask_dirty = True
            else:
                self._best_bid, self._best_ask = best_bid, best_ask
                events = self._rare_event(columns, i)
                best_bid, best_ask = self._best_bid, self._best_ask
            if events:
                self._best_bid, self._best_ask = best_bid, best_ask
                return i + 1, events
        self._best_bid, self._best_ask = best_bid, best_ask
        return stop, events

    def _rare_event(self, columns: EventColumns, i: int) -> Events:
        """A trade, or the first level of a new snapshot (the book is cleared, then the level applied)."""
        side, price, size, ts = columns.side[i], columns.price[i], columns.size[i], columns.ts[i]
        if columns.code[i] == TRADE_EVENT:
            return self.on_trade(side, price, size, ts)
        self.clear()
        return self.on_level(side, price, size, ts)

    def _requeue(self, tracked: list[Tracked], prev: int, size: int) -> None:
        for _, pos in tracked:
            self.queue.on_depth(pos, prev, size)

    def on_trade(self, aggressor: int, price: int, size: int, ts: int) -> Events:
        """A recorded trade; a sell aggressor hits bids, a buy aggressor lifts asks."""
        resting_side = -aggressor
        if resting_side == 1:
            if price > self.max_our_bid:
                return _NO_EVENTS
            events = self._fill_through(1, price + 1, ts) if price < self.max_our_bid else []
        else:
            if price < self.min_our_ask:
                return _NO_EVENTS
            events = self._fill_through(-1, price - 1, ts) if price > self.min_our_ask else []
        for order, pos in list(self._ours[resting_side].get(price, ())):
            self.queue.on_trade(pos, size)
            passed = pos.passed_lots()
            if passed >= 1:
                qty = order.remaining if not self.partial_fills else min(order.remaining, passed)
                pos.consume(qty)
                events += self._fill(order, qty, ts)
        return events

    def top(self) -> BookTop | None:
        bid, ask = self.best_bid(), self.best_ask()
        if bid is None or ask is None:
            return None
        return BookTop(bid, self.bids[bid], ask, self.asks[ask])

    def best_bid(self) -> int | None:
        if self._bid_dirty:
            best = find_best(self.bids, BID, self._best_bid - 1)
            self._best_bid = NO_BID if best is None else best
            self._bid_dirty = False
        return None if self._best_bid == NO_BID else self._best_bid

    def best_ask(self) -> int | None:
        if self._ask_dirty:
            best = find_best(self.asks, ASK, self._best_ask + 1)
            self._best_ask = NO_ASK if best is None else best
            self._ask_dirty = False
        return None if self._best_ask == NO_ASK else self._best_ask

    # --- our orders, as they arrive at the exchange ---

    def submit(self, account: str, req: OrderRequest, ts: int) -> Events:
        opposite_best = self.best_ask() if req.side is Side.BUY else self.best_bid()
        crossing = opposite_best is not None and (req.price - opposite_best) * req.side.sign >= 0
        if crossing and req.tif is TimeInForce.POST_ONLY:
            detail = f"post-only {req.side.name} at {req.price} would cross {opposite_best}"
            return self.engine.reject(account, req, RejectReason.POST_ONLY_WOULD_CROSS, detail, ts)
        takes = self._takes(req) if crossing else []
        events = self.engine.submit(account, req, ts, outside=takes)
        order = self.engine.order(account, req.client_id)
        if order is not None and order.market == self.market:
            self._track(order)
        return events

    def cancel(self, account: str, req: CancelRequest, ts: int) -> Events:
        order = self.engine.order(account, req.client_id)
        events = self.engine.cancel(account, req, ts)
        if order is not None and self.engine.order(account, req.client_id) is None:
            self._untrack(order)
        return events

    def _takes(self, req: OrderRequest) -> list[tuple[int, int]]:
        book = self.asks if req.side is Side.BUY else self.bids
        prices = sorted(
            (p for p in book if (req.price - p) * req.side.sign >= 0), reverse=req.side is Side.SELL
        )
        if not self.partial_fills:
            return [(prices[0], req.size)]  # the whole order at the best price, like hftbacktest
        takes, left = [], req.size
        for price in prices:
            size = min(left, book[price])
            takes.append((price, size))
            left -= size
            if not left:
                break
        return takes

    def _track(self, order: RestingOrder) -> None:
        book = self.bids if order.side is Side.BUY else self.asks
        level = self._ours[order.side.sign].setdefault(order.price, [])
        level.append((order, QueuePos.behind(book.get(order.price, 0))))
        self._refresh_extremes()

    def _untrack(self, order: RestingOrder) -> None:
        levels = self._ours[order.side.sign]
        level = levels[order.price]
        level[:] = [t for t in level if t[0] is not order]
        if not level:
            del levels[order.price]
        self._refresh_extremes()

    def _refresh_extremes(self) -> None:
        self.max_our_bid = max(self._ours[1], default=NO_BID)
        self.min_our_ask = min(self._ours[-1], default=NO_ASK)

    def _fill_through(self, side: int, limit: int, ts: int) -> Events:
        """Fill every order of ours on `side` priced at or beyond `limit` (the market traded through it)."""
        events: Events = []
        for price in [p for p in self._ours[side] if (p - limit) * side >= 0]:
            for order, _ in list(self._ours[side].get(price, ())):
                events += self._fill(order, order.remaining, ts)
        return events

    def _fill(self, order: RestingOrder, qty: int, ts: int) -> Events:
        events = self.engine.fill_resting(order.venue_order_id, qty, ts)
        if order.remaining == 0:
            self._untrack(order)
        return events
