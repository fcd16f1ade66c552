"""Order state machine and consistency check for the Sei adapter.

Every contract event is handled once, keyed by (tx hash, message index, event index), and each `wasm-fill`
event becomes exactly one Fill with its own size, price, fee and liquidity, whatever order events arrive
in. Fills only ever come from events (websocket, tx lookup, or the tx search that replays a websocket gap);
the contract's order state is a consistency check that raises an alert when it disagrees and never
invents a fill.
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
from flashmm_engine.venues.sei.codec import (
    A_CONTRACT,
    Action,
    ContractCodec,
    ContractEvent,
    ContractOrder,
    ExecuteCall,
)
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
    cancel_failed: bool = False
    """A cancel of it failed on chain (typically: it had just filled); awaiting a consistency check."""


@dataclass(frozen=True, slots=True)
class CycleItem:
    """One message of a quote-cycle tx: a cancel or a place of `client_id`."""

    client_id: str
    call: ExecuteCall
    is_cancel: bool


@dataclass(slots=True)
class OurTx:
    """A tx we broadcast: which message is which order, until its result is seen."""

    items: tuple[CycleItem, ...]
    submitted_s: float
    resolved: bool = False

    @property
    def places(self) -> dict[int, str]:
        return {i: it.client_id for i, it in enumerate(self.items) if not it.is_cancel}


@dataclass(slots=True)
class TrackerStats:
    duplicates: int = 0
    failed_txs: int = 0
    foreign_events: int = 0
    unknown_orders: int = 0
    overfills: int = 0
    """Fill events that would take an order past its size: refused and alerted."""
    state_disagreements: int = 0
    """Contract state that the handled events do not explain: alerted, never turned into fills."""
    cancel_races: int = 0
    """Cancels that failed on chain because the order was no longer open."""


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
        self.failed: list[tuple[OurTx, str]] = []
        """Our txs that failed in a block, with their raw log: the venue decides what to resubmit."""

    # --- our submissions ---

    def register(self, req: OrderRequest) -> None:
        self.orders[req.client_id] = TrackedOrder(req.client_id, req.side, req.price, req.size)

    def on_accepted(self, txhash: str, items: tuple[CycleItem, ...], now_s: float) -> None:
        self.txs[txhash] = OurTx(items, now_s)

    def on_item_failed(self, item: CycleItem, detail: str, ts: int) -> Reject:
        """A message of ours did not execute. A failed cancel leaves the order's true state to be checked."""
        if not item.is_cancel:
            return self._reject(item.client_id, RejectReason.VENUE_ERROR, detail, ts)
        order = self.orders.get(item.client_id)
        if order is not None and not order.status.is_terminal:
            order.cancel_failed = True
            self.stats.cancel_races += 1
        return Reject(item.client_id, RejectReason.UNKNOWN_ORDER, f"cancel failed: {detail}", ts)

    def pending_checks(self) -> list[TrackedOrder]:
        return [o for o in self.orders.values() if o.cancel_failed and not o.status.is_terminal]

    def unresolved(self) -> list[tuple[str, OurTx]]:
        return [(h, t) for h, t in self.txs.items() if not t.resolved]

    def order_idx(self, client_id: str) -> str | None:
        order = self.orders.get(client_id)
        if order is None or order.status.is_terminal or order.cancel_failed:
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
                self.failed.append((ours, detail))
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
            return self._fill(order, ev.size, ev.price, fee, ev.liquidity, fill_id, ts)
        if order.filled + ev.size < order.size:
            # fills before the retract are not handled yet (reordered delivery): they count when they come
            missing = order.size - ev.size - order.filled
            log.info("retract of %s arrived before %d lots of its fills", order.client_id, missing)
        if order.status.is_terminal:
            return []
        order.status = OrderStatus.CANCELLED
        return [CancelAck(order.client_id, ts, ev.size)]

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

    def _fill(
        self, order: TrackedOrder, size: int, price: int, fee: int, liq: Liquidity, fill_id: str, ts: int
    ) -> list[VenueEvent]:
        if order.filled + size > order.size:
            self.stats.overfills += 1
            log.error("ALERT: fill %s would take %s past its size; refused", fill_id, order.client_id)
            return []
        order.filled += size
        remaining = order.size - order.filled
        if remaining == 0:
            order.status = OrderStatus.FILLED
        elif not order.status.is_terminal:
            order.status = OrderStatus.PARTIALLY_FILLED
        side, market, idx = order.side, self.market.spec.symbol, order.order_idx or ""
        return [Fill(fill_id, order.client_id, idx, market, side, price, size, fee, liq, ts, remaining)]

    def _reject(self, client_id: str, reason: RejectReason, detail: str, ts: int) -> Reject:
        order = self.orders.get(client_id)
        if order is not None and order.status is OrderStatus.PENDING:
            order.status = OrderStatus.REJECTED
        return Reject(client_id, reason, detail, ts)

    # --- reconciliation against the contract's own state ---

    def check_consistency(self, contract_orders: list[ContractOrder], ts: int) -> list[VenueEvent]:
        """Compare handled events with a contract snapshot taken no later than the events handled so far.

        More filled on the contract than in our fills means events were missed: alert, invent nothing.
        An order whose cancel failed is settled here: still open -> cancellable again; closed with every
        fill accounted for, or gone (FIN drops closed orders) -> cancelled, as no further fill can come.
        """
        rows = {r.order_idx: r for r in contract_orders if r.owner == self.owner}
        out: list[VenueEvent] = []
        for order in self.orders.values():
            row = rows.get(order.order_idx or "")
            if row is None and order.cancel_failed and not order.status.is_terminal:
                self._disagree(order, "gone from the contract: its fills cannot be checked")
                order.status = OrderStatus.CANCELLED
                out.append(CancelAck(order.client_id, ts, order.size - order.filled))
            if row is None or order.order_idx is None:
                continue
            if row.filled > order.filled:
                self._disagree(order, f"contract filled {row.filled}, events {order.filled}")
            elif not row.open and not order.status.is_terminal:
                if order.cancel_failed:
                    order.status = OrderStatus.CANCELLED
                    out.append(CancelAck(order.client_id, ts, order.size - order.filled))
                else:
                    self._disagree(order, "closed on the contract, no closing event handled")
            elif row.open and order.cancel_failed:
                order.cancel_failed = False
        return out

    def _disagree(self, order: TrackedOrder, detail: str) -> None:
        self.stats.state_disagreements += 1
        idx = order.order_idx
        log.error("ALERT: order %s (idx %s) disagrees with the contract: %s", order.client_id, idx, detail)

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
