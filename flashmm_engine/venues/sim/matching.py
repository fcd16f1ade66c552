"""A synchronous, deterministic price-time-priority matching engine on integer ticks and lots.

One engine serves the sim venue process, the backtester (synthetic and replay) and the Sei stub node.
Every call returns the `(account, VenueEvent)` pairs it produced, in order: both sides of every match get
their `Fill`. Self-trade prevention is "expire taker": an incoming order stops matching when it would
trade against its own account, and its remainder is cancelled. Determinism: no clocks or randomness
inside; ids are counters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from flashmm_engine.types import (
    Ack,
    CancelAck,
    CancelRequest,
    Fill,
    Liquidity,
    OpenOrder,
    OrderRequest,
    OrderStatus,
    Reject,
    RejectReason,
    Side,
    TimeInForce,
    Trade,
    VenueEvent,
)
from flashmm_engine.venues.sim.accounts import Balance, buy_reservation, fee_for, settle
from flashmm_engine.venues.sim.book import RestingOrder, SideBook
from flashmm_engine.venues.sim.final_status import FinalStatuses
from flashmm_engine.venues.sim.market_config import SimMarket

Events = list[tuple[str, VenueEvent]]


class MatchingEngine:
    def __init__(self, markets: Iterable[SimMarket], id_prefix: str = "") -> None:
        """`id_prefix` starts every venue order id and fill id (a venue session's, so that ids stay unique
        across restarts of a venue process)."""
        self.id_prefix = id_prefix
        self.markets = {m.name: m for m in markets}
        self._books = {name: (SideBook(Side.BUY), SideBook(Side.SELL)) for name in self.markets}
        self._balances: dict[tuple[str, str], Balance] = {}
        self._live: dict[tuple[str, str], RestingOrder] = {}  # (account, client_id) -> resting order
        self._by_venue_id: dict[str, RestingOrder] = {}
        self._final = FinalStatuses()
        self._order_seq = 0
        self._trade_seq = 0
        self.public_trades: list[Trade] = []
        """Trades since the last `take_public_trades`, for market-data publishers."""

    # --- accounts ---

    def fund(self, account: str, market: str, base: int = 0, quote: int = 0) -> None:
        bal = self._balance(account, market)
        bal.base += base
        bal.quote += quote

    def balance(self, account: str, market: str) -> Balance:
        return replace(self._balance(account, market))

    def balances(self, account: str) -> dict[str, Balance]:
        return {m: replace(b) for (a, m), b in self._balances.items() if a == account}

    def positions(self, account: str) -> dict[str, int]:
        return {m: b.base for (a, m), b in self._balances.items() if a == account}

    def _balance(self, account: str, market: str) -> Balance:
        key = (account, market)
        bal = self._balances.get(key)
        if bal is None:
            bal = self._balances[key] = Balance()
        return bal

    # --- queries ---

    def best_bid(self, market: str) -> int | None:
        return self._books[market][0].best()

    def best_ask(self, market: str) -> int | None:
        return self._books[market][1].best()

    def depth(self, market: str, levels: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        bids, asks = self._books[market]
        return bids.depth(levels), asks.depth(levels)

    def level_prices(self, market: str, side: Side) -> list[int]:
        """Prices with resting orders on one side, best first."""
        return self._side(market, side).prices()

    def level_orders(self, market: str, side: Side, price: int) -> list[RestingOrder]:
        return list(self._side(market, side).levels.get(price, ()))

    def level_size(self, market: str, side: Side, price: int) -> int:
        return self._side(market, side).level_size(price)

    def order(self, account: str, client_id: str) -> RestingOrder | None:
        return self._live.get((account, client_id))

    def order_by_venue_id(self, venue_order_id: str) -> RestingOrder | None:
        return self._by_venue_id.get(venue_order_id)

    def status(self, account: str, client_id: str) -> OrderStatus | None:
        live = self._live.get((account, client_id))
        if live is not None:
            return OrderStatus.PARTIALLY_FILLED if live.filled else OrderStatus.OPEN
        return self._final.get((account, client_id))

    def open_orders(self, account: str, market: str | None = None) -> list[OpenOrder]:
        return [
            OpenOrder(
                o.client_id,
                o.venue_order_id,
                o.market,
                o.side,
                o.price,
                o.size,
                o.filled,
                OrderStatus.PARTIALLY_FILLED if o.filled else OrderStatus.OPEN,
            )
            for (acct, _), o in self._live.items()
            if acct == account and (market is None or o.market == market)
        ]

    def take_public_trades(self) -> list[Trade]:
        trades, self.public_trades = self.public_trades, []
        return trades

    # --- order entry ---

    def submit(
        self, account: str, req: OrderRequest, ts: int, outside: Sequence[tuple[int, int]] = ()
    ) -> Events:
        """Validate, match and rest an order. `outside` = (price, size) liquidity the order takes first,
        from a market the engine does not hold (a replayed book); those fills are taker fills."""
        reason, detail = self._validate(account, req)
        if reason is not None:
            return self._reject(account, req, reason, detail, ts)
        opposite = self._side(req.market, req.side.opposite)
        if req.tif is TimeInForce.POST_ONLY and opposite.crosses(req.price):
            self._final.set((account, req.client_id), OrderStatus.REJECTED)
            detail = f"post-only {req.side.name} at {req.price} would cross {opposite.best()}"
            return [(account, Reject(req.client_id, RejectReason.POST_ONLY_WOULD_CROSS, detail, ts))]
        self._order_seq += 1
        order = RestingOrder(
            f"{self.id_prefix}O{self._order_seq}",
            req.client_id,
            account,
            req.market,
            req.side,
            req.price,
            req.size,
            req.size,
            req.tif,
            ts,
        )
        fills = [self._take_outside(order, price, size, ts) for price, size in outside if size]
        more, self_trade = self._match(order, opposite, ts)
        fills += more
        if self_trade and not fills:
            self._final.set((account, req.client_id), OrderStatus.REJECTED)
            detail = f"{req.side.name} at {req.price} would trade with own resting order"
            return [(account, Reject(req.client_id, RejectReason.SELF_TRADE, detail, ts))]
        events: Events = [(account, Ack(req.client_id, order.venue_order_id, ts)), *fills]
        if order.remaining == 0:
            self._final.set((account, req.client_id), OrderStatus.FILLED)
        elif self_trade or req.tif is TimeInForce.IOC:
            self._final.set((account, req.client_id), OrderStatus.CANCELLED)
            events.append((account, CancelAck(req.client_id, ts, order.remaining)))
        else:
            self._rest(order)
        return events

    def reject(self, account: str, req: OrderRequest, reason: RejectReason, detail: str, ts: int) -> Events:
        """Reject an order for a reason found outside the engine; validation failures take precedence."""
        first, first_detail = self._validate(account, req)
        if first is not None:
            return self._reject(account, req, first, first_detail, ts)
        return self._reject(account, req, reason, detail, ts)

    def _reject(self, account: str, req: OrderRequest, reason: RejectReason, detail: str, ts: int) -> Events:
        if reason is not RejectReason.DUPLICATE_CLIENT_ID:
            self._final.set((account, req.client_id), OrderStatus.REJECTED)
        return [(account, Reject(req.client_id, reason, detail, ts))]

    def cancel(self, account: str, req: CancelRequest, ts: int) -> Events:
        order = self._live.get((account, req.client_id))
        if order is None or order.market != req.market:
            final = self._final.get((account, req.client_id))
            detail = f"order {req.client_id} is {final.value}" if final else f"no order {req.client_id}"
            return [(account, Reject(req.client_id, RejectReason.UNKNOWN_ORDER, detail, ts))]
        self._unrest(order)
        self._final.set((account, req.client_id), OrderStatus.CANCELLED)
        return [(account, CancelAck(req.client_id, ts, order.remaining))]

    def cancel_replace(self, account: str, cancel: CancelRequest, new: OrderRequest, ts: int) -> Events:
        """Cancel then place, atomically; the new order is not sent if the cancel fails."""
        events = self.cancel(account, cancel, ts)
        if isinstance(events[-1][1], Reject):
            return events
        return events + self.submit(account, new, ts)

    def cancel_all(self, account: str, ts: int, market: str | None = None) -> Events:
        events: Events = []
        for order in [o for (a, _), o in self._live.items() if a == account]:
            if market is None or order.market == market:
                events += self.cancel(account, CancelRequest(order.client_id, order.market), ts)
        return events

    def fill_resting(self, venue_order_id: str, size: int, ts: int) -> Events:
        """Execute a resting order against outside liquidity (replayed market flow) at its own price."""
        order = self._by_venue_id[venue_order_id]
        size = min(size, order.remaining)
        market = self.markets[order.market]
        return [self._execute(order, order.price, size, market.maker_fee_ppm, Liquidity.MAKER, ts)]

    # --- internals ---

    def _validate(self, account: str, req: OrderRequest) -> tuple[RejectReason | None, str]:
        market = self.markets.get(req.market)
        if market is None:
            return RejectReason.UNKNOWN_MARKET, f"unknown market {req.market!r}"
        if (account, req.client_id) in self._live or (account, req.client_id) in self._final:
            return RejectReason.DUPLICATE_CLIENT_ID, f"client id {req.client_id} already used"
        if req.size <= 0:
            return RejectReason.NON_POSITIVE_SIZE, f"size {req.size} must be positive"
        if req.price <= 0:
            return RejectReason.NON_POSITIVE_PRICE, f"price {req.price} must be positive"
        bal = self._balance(account, req.market)
        if req.side is Side.BUY and market.check_quote:
            need = buy_reservation(req.price, req.size, market.max_fee_ppm)
            if need > bal.available_quote:
                return (
                    RejectReason.INSUFFICIENT_BALANCE,
                    f"needs {need} quote units, {bal.available_quote} free",
                )
        if req.side is Side.SELL and not market.allow_short and req.size > bal.available_base:
            return RejectReason.INSUFFICIENT_BALANCE, f"needs {req.size} base lots, {bal.available_base} free"
        return None, ""

    def _side(self, market: str, side: Side) -> SideBook:
        return self._books[market][0 if side is Side.BUY else 1]

    def _match(self, taker: RestingOrder, opposite: SideBook, ts: int) -> tuple[Events, bool]:
        market = self.markets[taker.market]
        fills: Events = []
        while taker.remaining and opposite.crosses(taker.price):
            price = opposite.best()
            assert price is not None
            maker = opposite.levels[price][0]
            if maker.account == taker.account:
                return fills, True
            size = min(taker.remaining, maker.remaining)
            fills.append(self._execute(maker, price, size, market.maker_fee_ppm, Liquidity.MAKER, ts))
            fills.append(self._execute(taker, price, size, market.taker_fee_ppm, Liquidity.TAKER, ts))
            self.public_trades.append(Trade(ts, ts, taker.market, price, size, taker.side, self._trade_seq))
        return fills, False

    def _take_outside(self, order: RestingOrder, price: int, size: int, ts: int) -> tuple[str, VenueEvent]:
        fee_ppm = self.markets[order.market].taker_fee_ppm
        return self._execute(order, price, min(size, order.remaining), fee_ppm, Liquidity.TAKER, ts)

    def _execute(
        self, order: RestingOrder, price: int, size: int, fee_ppm: int, liq: Liquidity, ts: int
    ) -> tuple[str, VenueEvent]:
        self._trade_seq += 1
        fee = fee_for(price, size, fee_ppm)
        bal = self._balance(order.account, order.market)
        resting = (order.account, order.client_id) in self._live
        if resting:
            self._release(order, bal)
            self._side(order.market, order.side).filled(order, size)
        order.remaining -= size
        settle(bal, order.side, price, size, fee)
        if resting:
            if order.remaining:
                self._reserve(order, bal)
            else:
                self._unrest(order, reserved=False)
                self._final.set((order.account, order.client_id), OrderStatus.FILLED)
        fill = Fill(
            f"{self.id_prefix}F{self._trade_seq}",
            order.client_id,
            order.venue_order_id,
            order.market,
            order.side,
            price,
            size,
            fee,
            liq,
            ts,
            order.remaining,
        )
        return order.account, fill

    def _rest(self, order: RestingOrder) -> None:
        self._side(order.market, order.side).add(order)
        self._live[(order.account, order.client_id)] = order
        self._by_venue_id[order.venue_order_id] = order
        self._reserve(order, self._balance(order.account, order.market))

    def _unrest(self, order: RestingOrder, reserved: bool = True) -> None:
        self._side(order.market, order.side).remove(order)
        del self._live[(order.account, order.client_id)]
        del self._by_venue_id[order.venue_order_id]
        if reserved:
            self._release(order, self._balance(order.account, order.market))

    def _reserve(self, order: RestingOrder, bal: Balance, sign: int = 1) -> None:
        market = self.markets[order.market]
        if order.side is Side.BUY:
            if market.check_quote:
                bal.reserved_quote += sign * buy_reservation(order.price, order.remaining, market.max_fee_ppm)
        elif not market.allow_short:
            bal.reserved_base += sign * order.remaining

    def _release(self, order: RestingOrder, bal: Balance) -> None:
        self._reserve(order, bal, sign=-1)
