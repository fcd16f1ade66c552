"""Order state machine and consistency check for the Sei adapter.

Every contract event is handled once, keyed by (tx hash, message index, event index), and each `wasm-fill`
event becomes exactly one Fill with its own size, price, fee and liquidity, whatever order events arrive
in. Handling is atomic per event: an event is decoded and converted completely before any state changes
and before it is marked seen; one that cannot be decoded is quarantined and the events after it go on.
Fills only ever come from events (websocket, tx lookup, or the tx search that replays a websocket gap);
the contract's order state is a consistency check that raises an alert when it disagrees and never
invents a fill. A place whose tx has no outcome within the timeout is UNKNOWN (possibly live), never
rejected on a guess: a late SUBMIT, the tx index or the contract's orders adopt it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from flashmm_engine.types import (
    NS_PER_S,
    Ack,
    CancelAck,
    Fill,
    Liquidity,
    OpenOrder,
    OrderRequest,
    OrderStatus,
    Reject,
    RejectReason,
    VenueEvent,
)
from flashmm_engine.venues.sei.codec import A_CONTRACT, Action, ContractCodec, ContractEvent, ContractOrder
from flashmm_engine.venues.sei.consistency import check_consistency
from flashmm_engine.venues.sei.events import ChainEvent, TxOutcome
from flashmm_engine.venues.sei.order_state import DecodedEvent, TrackedOrder, TrackerStats, reject_reason
from flashmm_engine.venues.sei.quarantine import EventKey, Quarantine
from flashmm_engine.venues.sei.txbook import CycleItem, OurTx, TxBook
from flashmm_engine.venues.sei.units import DenomMarket

__all__ = ["CycleItem", "OrderTracker", "OurTx", "TrackedOrder", "TrackerStats"]

MAX_SEEN_EVENTS = 200_000
MAX_TERMINAL_ORDERS = 10_000
"""Finished orders kept (for late duplicates and reordered fills) beyond which the oldest are pruned."""
DEFAULT_RETENTION_S = 600.0
log = logging.getLogger(__name__)


class OrderTracker:
    def __init__(
        self,
        owner: str,
        contract: str,
        market: DenomMarket,
        codec: ContractCodec,
        retention_s: float = DEFAULT_RETENTION_S,
        max_terminal: int = MAX_TERMINAL_ORDERS,
    ) -> None:
        self.owner = owner
        self.contract = contract
        self.market = market
        self.codec = codec
        self.retention_ns = int(retention_s * NS_PER_S)
        self._max_terminal = max_terminal
        self.orders: dict[str, TrackedOrder] = {}
        self.by_idx: dict[str, str] = {}
        self.txs = TxBook(self.retention_ns)
        self._seen: OrderedDict[EventKey, None] = OrderedDict()
        self._terminal: OrderedDict[str, int] = OrderedDict()
        self.quarantine = Quarantine()
        self.stats = TrackerStats()
        self.failed: list[tuple[OurTx, str]] = []
        """Our txs that failed in a block, with their raw log: the venue decides what to resubmit."""

    # --- our submissions ---

    def register(self, req: OrderRequest) -> None:
        self.orders[req.client_id] = TrackedOrder(req.client_id, req.side, req.price, req.size)

    def on_accepted(self, txhash: str, items: tuple[CycleItem, ...], now_ns: int) -> None:
        self.txs.add(txhash, items, now_ns)

    def on_item_failed(self, item: CycleItem, detail: str, ts: int) -> Reject:
        """A message of ours did not execute. A failed cancel leaves the order's true state to be checked."""
        if not item.is_cancel:
            return self._reject(item.client_id, RejectReason.VENUE_ERROR, detail, ts)
        order = self.orders.get(item.client_id)
        if order is not None and not order.status.is_terminal:
            order.cancel_failed = True
            self.stats.cancel_races += 1
        return Reject(item.client_id, RejectReason.UNKNOWN_ORDER, f"cancel failed: {detail}", ts)

    def on_tx_timeout(self, txhash: str, ts: int) -> list[VenueEvent]:
        """No outcome within the timeout: its places become UNKNOWN; its cancels are reported unconfirmed
        and their orders await a state check."""
        ours = self.txs.get(txhash)
        if ours is None or ours.resolved or ours.timed_out:
            return []
        ours.timed_out = True
        out: list[VenueEvent] = []
        for item in ours.items:
            order = self.orders.get(item.client_id)
            if order is None or order.status.is_terminal:
                continue
            if item.is_cancel:
                order.cancel_failed = True
                detail = f"cancel tx {txhash} has no outcome yet"
                out.append(Reject(item.client_id, RejectReason.UNKNOWN_ORDER, detail, ts))
            elif order.status is OrderStatus.PENDING:
                order.status = OrderStatus.UNKNOWN
                self.stats.timed_out_places += 1
                log.warning("order %s: tx %s has no outcome yet, order state UNKNOWN", item.client_id, txhash)
        return out

    def give_up(self, txhash: str, ts: int) -> list[VenueEvent]:
        """The retention window ended with the tx never seen: its UNKNOWN orders are rejected (alerted).
        Should the tx still land, its SUBMIT is adopted as an order of an earlier session."""
        ours = self.txs.get(txhash)
        self.txs.resolve(txhash, ts)
        out: list[VenueEvent] = []
        for client_id in ours.places.values() if ours else ():
            order = self.orders.get(client_id)
            if order is not None and order.status is OrderStatus.UNKNOWN:
                self.stats.given_up += 1
                log.error("ALERT: order %s: tx %s never seen on chain; rejected", client_id, txhash)
                out.append(self._reject(client_id, RejectReason.VENUE_ERROR, f"tx {txhash} never landed", ts))
        return out

    def pending_checks(self) -> list[TrackedOrder]:
        return [
            o
            for o in self.orders.values()
            if (o.cancel_failed and not o.status.is_terminal) or o.status is OrderStatus.UNKNOWN
        ]

    def unresolved(self) -> list[tuple[str, OurTx]]:
        return self.txs.unresolved()

    def order_idx(self, client_id: str) -> str | None:
        order = self.orders.get(client_id)
        if order is None or order.status.is_terminal or order.cancel_failed:
            return None
        return order.order_idx

    # --- executed transactions (websocket or lookup) ---

    def on_tx(self, outcome: TxOutcome, ts: int) -> list[VenueEvent]:
        ours = self.txs.get(outcome.txhash)
        if ours is not None and not ours.resolved:
            self.txs.resolve(outcome.txhash, ts)
            if outcome.code != 0:
                self.stats.failed_txs += 1
                detail = f"tx {outcome.txhash} failed (code {outcome.code}): {outcome.raw_log}"
                self.failed.append((ours, detail))
        out: list[VenueEvent] = []
        for ev in outcome.events:
            decoded = self._decode(outcome.txhash, ev)
            if decoded is None:
                continue
            self._remember(decoded.key)
            if decoded.event.owner != self.owner:
                self.stats.foreign_events += 1
                continue
            out += self._apply(decoded, ours, ev.msg_index, ts)
        return out

    def _decode(self, txhash: str, ev: ChainEvent) -> DecodedEvent | None:
        """Everything that can fail, before any state changes; None for events not to be applied."""
        key = (txhash, ev.msg_index, ev.event_index)
        if key in self._seen:
            self.stats.duplicates += 1
            return None
        if ev.error:  # unreadable at the chain level: it may be the contract's, so it is not skipped
            self.quarantine.add(key, ev.type, ev.attrs, ev.error)
            return None
        if ev.attrs.get(A_CONTRACT) != self.contract:
            return None
        try:
            parsed = self.codec.parse_event(ev.type, ev.attrs)
            if parsed is None:
                return None
            fee = (
                self.market.quote_raw_to_notional(parsed.fee_quote_raw) if parsed.action is Action.FILL else 0
            )
        except (ValueError, ArithmeticError) as exc:  # CodecError, UnitError, OffTickError, InvalidOperation
            self.quarantine.add(key, ev.type, ev.attrs, repr(exc))
            return None
        self.quarantine.release(key)  # a readable copy (e.g. from the tx index) of a quarantined event
        return DecodedEvent(key, parsed, fee)

    def _remember(self, key: EventKey) -> None:
        self._seen[key] = None
        if len(self._seen) > MAX_SEEN_EVENTS:
            self._seen.popitem(last=False)

    def _apply(self, decoded: DecodedEvent, ours: OurTx | None, msg_index: int, ts: int) -> list[VenueEvent]:
        ev = decoded.event
        client_id = (
            ours.places.get(msg_index) if ours and ev.action in (Action.SUBMIT, Action.REJECT) else None
        )
        order = self._order_for(ev, client_id)
        if order is None:
            self.stats.unknown_orders += 1
            log.warning("event %s for unknown order %s ignored", ev.action.value, ev.order_idx)
            return []
        if ev.action is Action.SUBMIT:
            return self._on_submit(order, ev.order_idx, ts)
        if ev.action is Action.REJECT:
            return [
                self._reject(order.client_id, reject_reason(ev.reason), f"contract rejected: {ev.reason}", ts)
            ]
        fill_id = "{}:{}:{}".format(*decoded.key)
        if ev.action is Action.FILL:
            return self._fill(order, ev.size, ev.price, decoded.fee, ev.liquidity, fill_id, ts)
        if order.filled + ev.size < order.size:
            # fills before the retract are not handled yet (reordered delivery): they count when they come
            missing = order.size - ev.size - order.filled
            log.info("retract of %s arrived before %d lots of its fills", order.client_id, missing)
        if order.status.is_terminal:
            return []
        self.finish(order, OrderStatus.CANCELLED, ts)
        return [CancelAck(order.client_id, ts, ev.size)]

    def _on_submit(self, order: TrackedOrder, order_idx: str, ts: int) -> list[VenueEvent]:
        if order.status in (OrderStatus.UNKNOWN, OrderStatus.REJECTED):
            # REJECTED: given up on after the retention window, yet it is live on the contract
            self.stats.adopted_late += 1
            self._terminal.pop(order.client_id, None)
            log.warning(
                "ALERT: order %s (idx %s) landed after its tx timeout: adopted", order.client_id, order_idx
            )
        elif order.status is not OrderStatus.PENDING:
            return []
        order.status = OrderStatus.PARTIALLY_FILLED if order.filled else OrderStatus.OPEN
        return [Ack(order.client_id, order_idx, ts)]

    def _order_for(self, ev: ContractEvent, client_id: str | None) -> TrackedOrder | None:
        known = self.by_idx.get(ev.order_idx)
        if known is not None:
            return self.orders.get(known)
        if client_id is None or client_id not in self.orders:
            if ev.action is not Action.SUBMIT:
                return None
            # placed by an earlier session (or another client with our key): adopt it
            client_id = f"{self.market.spec.symbol}:idx:{ev.order_idx}"
            log.warning("order idx %s of ours was not placed by this session: adopted", ev.order_idx)
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
            self.finish(order, OrderStatus.FILLED, ts)
        elif not order.status.is_terminal:
            order.status = OrderStatus.PARTIALLY_FILLED
        side, market, idx = order.side, self.market.spec.symbol, order.order_idx or ""
        return [Fill(fill_id, order.client_id, idx, market, side, price, size, fee, liq, ts, remaining)]

    def _reject(self, client_id: str, reason: RejectReason, detail: str, ts: int) -> Reject:
        order = self.orders.get(client_id)
        if order is not None and order.status in (OrderStatus.PENDING, OrderStatus.UNKNOWN):
            self.finish(order, OrderStatus.REJECTED, ts)
        return Reject(client_id, reason, detail, ts)

    # --- retention ---

    def finish(self, order: TrackedOrder, status: OrderStatus, ts: int) -> None:
        order.status = status
        self._terminal[order.client_id] = ts
        self._terminal.move_to_end(order.client_id)
        self.prune(ts)

    def prune(self, now_ns: int) -> None:
        """Drop finished orders older than the retention window or beyond the cap, oldest first."""
        terminal = self._terminal
        while terminal:
            client_id, at = next(iter(terminal.items()))
            if len(terminal) <= self._max_terminal and now_ns - at <= self.retention_ns:
                break
            terminal.popitem(last=False)
            order = self.orders.pop(client_id, None)
            if order is not None and order.order_idx is not None:
                self.by_idx.pop(order.order_idx, None)
        self.txs.prune(now_ns)

    # --- reconciliation against the contract's own state ---

    def check_consistency(self, contract_orders: list[ContractOrder], ts: int) -> list[VenueEvent]:
        """See consistency.check_consistency."""
        return check_consistency(self, contract_orders, ts)

    def adopt(self, order: TrackedOrder, order_idx: str, ts: int) -> list[VenueEvent]:
        """An UNKNOWN order found on the contract under `order_idx`."""
        order.order_idx = order_idx
        self.by_idx[order_idx] = order.client_id
        return self._on_submit(order, order_idx, ts)

    def open_orders(self) -> list[OpenOrder]:
        """Orders that are or may be live, UNKNOWN ones included (risk must count them)."""
        live = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.UNKNOWN)
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
