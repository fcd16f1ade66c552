"""Order state machine and reconciler for the Sei adapter.

Every contract event is handled once, keyed by (tx hash, message index, event index). Fills are applied by
cumulative filled size (order size minus the event's remaining), so a duplicated, reordered or late event,
or a fill already recovered from a contract query after a websocket gap, is never counted twice.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

from flashmm_engine.types import (
    Ack,
    CancelAck,
    Fill,
    Liquidity,
    OpenOrder,
    OrderRequest,
    OrderStatus,
    Reject,
    RejectReason,
    Side,
    VenueEvent,
)
from flashmm_engine.venues.sei.codec import A_CONTRACT, Action, ContractCodec, ContractEvent, ContractOrder
from flashmm_engine.venues.sei.events import TxOutcome
from flashmm_engine.venues.sei.units import DenomMarket

MAX_SEEN_EVENTS = 200_000
log = logging.getLogger(__name__)


@dataclass(slots=True)
class TrackedOrder:
    client_id: str
    side: Side
    price: int
    size: int
    status: OrderStatus = OrderStatus.PENDING
    order_idx: str | None = None
    filled: int = 0


@dataclass(slots=True)
class OurTx:
    """A tx we broadcast: which message placed which order, until its result is seen."""

    places: dict[int, str]
    cancels: dict[int, str]
    submitted_s: float
    resolved: bool = False


@dataclass(slots=True)
class TrackerStats:
    duplicates: int = 0
    recovered_fills: int = 0
    failed_txs: int = 0
    foreign_events: int = 0
    unknown_orders: int = 0


class OrderTracker:
    def __init__(self, owner: str, contract: str, market: DenomMarket, codec: ContractCodec) -> None:
        self.owner = owner
        self.contract = contract
        self.market = market
        self.codec = codec
        self.orders: dict[str, TrackedOrder] = {}
        self.by_idx: dict[str, str] = {}
        self.txs: dict[str, OurTx] = {}
        self._seen: OrderedDict[tuple[str, int, int], None] = OrderedDict()
        self.stats = TrackerStats()

    # --- our submissions ---

    def register(self, req: OrderRequest) -> None:
        self.orders[req.client_id] = TrackedOrder(req.client_id, req.side, req.price, req.size)

    def on_accepted(self, txhash: str, places: dict[int, str], cancels: dict[int, str], now_s: float) -> None:
        self.txs[txhash] = OurTx(places, cancels, now_s)

    def on_not_accepted(self, places: dict[int, str], detail: str, ts: int) -> list[VenueEvent]:
        return [self._reject(cid, RejectReason.VENUE_ERROR, detail, ts) for cid in places.values()]

    def unresolved(self) -> list[tuple[str, OurTx]]:
        return [(h, t) for h, t in self.txs.items() if not t.resolved]

    def order_idx(self, client_id: str) -> str | None:
        order = self.orders.get(client_id)
        if order is None or order.status.is_terminal:
            return None
        return order.order_idx

    # --- executed transactions (websocket or lookup) ---

    def on_tx(self, outcome: TxOutcome, ts: int) -> list[VenueEvent]:
        out: list[VenueEvent] = []
        ours = self.txs.get(outcome.txhash)
        if ours is not None and not ours.resolved:
            ours.resolved = True
            if outcome.code != 0:
                self.stats.failed_txs += 1
                detail = f"tx {outcome.txhash} failed (code {outcome.code}): {outcome.raw_log}"
                out += self.on_not_accepted(ours.places, detail, ts)
        for ev in outcome.events:
            key = (outcome.txhash, ev.msg_index, ev.event_index)
            if key in self._seen:
                self.stats.duplicates += 1
                continue
            parsed = self.codec.parse_event(ev.type, ev.attrs)
            if parsed is None or ev.attrs.get(A_CONTRACT) != self.contract:
                continue
            self._remember(key)
            if parsed.owner != self.owner:
                self.stats.foreign_events += 1
                continue
            fill_id = f"{outcome.txhash}:{ev.msg_index}:{ev.event_index}"
            out += self._apply(parsed, ours, ev.msg_index, fill_id, ts)
        return out

    def _remember(self, key: tuple[str, int, int]) -> None:
        self._seen[key] = None
        if len(self._seen) > MAX_SEEN_EVENTS:
            self._seen.popitem(last=False)

    def _apply(
        self, ev: ContractEvent, ours: OurTx | None, msg_index: int, fill_id: str, ts: int
    ) -> list[VenueEvent]:
        client_id = (
            ours.places.get(msg_index) if ours and ev.action in (Action.SUBMIT, Action.REJECT) else None
        )
        order = self._order_for(ev, client_id)
        if order is None:
            self.stats.unknown_orders += 1
            log.warning("event %s for unknown order %s ignored", ev.action.value, ev.order_idx)
            return []
        if ev.action is Action.SUBMIT:
            if order.status is not OrderStatus.PENDING:
                return []
            order.status = OrderStatus.OPEN
            return [Ack(order.client_id, ev.order_idx, ts)]
        if ev.action is Action.REJECT:
            return [self._reject(order.client_id, _reason(ev.reason), f"contract rejected: {ev.reason}", ts)]
        if ev.action is Action.FILL:
            fee = self.market.quote_raw_to_notional(ev.fee_quote_raw)
            return self._advance(order, order.size - ev.remaining, ev.price, fee, ev.liquidity, fill_id, ts)
        # retract: fills we never saw happened before it
        out = self._advance(
            order, order.size - ev.size, order.price, 0, Liquidity.MAKER, f"{fill_id}:gap", ts
        )
        if not order.status.is_terminal:
            order.status = OrderStatus.CANCELLED
            out.append(CancelAck(order.client_id, ts, ev.size))
        return out

    def _order_for(self, ev: ContractEvent, client_id: str | None) -> TrackedOrder | None:
        known = self.by_idx.get(ev.order_idx)
        if known is not None:
            return self.orders[known]
        if client_id is None or client_id not in self.orders:
            if ev.action is not Action.SUBMIT:
                return None
            # placed by an earlier session (or another client with our key): adopt it
            client_id = f"{self.market.spec.symbol}:idx:{ev.order_idx}"
            self.orders[client_id] = TrackedOrder(client_id, ev.side, ev.price, ev.size)
        order = self.orders[client_id]
        order.order_idx = ev.order_idx
        self.by_idx[ev.order_idx] = client_id
        return order

    def _advance(
        self,
        order: TrackedOrder,
        filled_total: int,
        price: int,
        fee: int,
        liq: Liquidity,
        fill_id: str,
        ts: int,
    ) -> list[VenueEvent]:
        delta = filled_total - order.filled
        if delta <= 0:
            return []
        order.filled = filled_total
        remaining = order.size - filled_total
        if remaining == 0:
            order.status = OrderStatus.FILLED
        elif not order.status.is_terminal:
            order.status = OrderStatus.PARTIALLY_FILLED
        return [
            Fill(
                fill_id,
                order.client_id,
                order.order_idx or "",
                self.market.spec.symbol,
                order.side,
                price,
                delta,
                fee,
                liq,
                ts,
                remaining,
            )
        ]

    def _reject(self, client_id: str, reason: RejectReason, detail: str, ts: int) -> Reject:
        order = self.orders.get(client_id)
        if order is not None and order.status is OrderStatus.PENDING:
            order.status = OrderStatus.REJECTED
        return Reject(client_id, reason, detail, ts)

    # --- reconciliation against the contract's own state ---

    def reconcile(self, contract_orders: list[ContractOrder], ts: int) -> list[VenueEvent]:
        out: list[VenueEvent] = []
        for row in contract_orders:
            if row.owner != self.owner:
                continue
            order = self.orders.get(self.by_idx.get(row.order_idx, ""))
            if order is None:
                continue
            before = len(out)
            out += self._advance(
                order, row.filled, order.price, 0, Liquidity.MAKER, f"recon:{row.order_idx}:{row.filled}", ts
            )
            self.stats.recovered_fills += len(out) - before
        return out

    def open_orders(self) -> list[OpenOrder]:
        live = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
        return [
            OpenOrder(
                o.client_id,
                o.order_idx or "",
                self.market.spec.symbol,
                o.side,
                o.price,
                o.size,
                o.filled,
                o.status,
            )
            for o in self.orders.values()
            if o.status in live
        ]


def _reason(text: str) -> RejectReason:
    try:
        return RejectReason(text)
    except ValueError:
        return RejectReason.VENUE_ERROR
