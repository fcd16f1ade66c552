"""Record types of the Sei tracker: our view of one order, a fully decoded event, the tracker's counters."""

from __future__ import annotations

from dataclasses import dataclass

from flashmm_engine.types import OrderStatus, RejectReason, Side
from flashmm_engine.venues.sei.codec import ContractEvent
from flashmm_engine.venues.sei.quarantine import EventKey


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
class DecodedEvent:
    """An event converted completely into FlashMM units, ready to change state."""

    key: EventKey
    event: ContractEvent
    fee: int


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
    timed_out_places: int = 0
    """Places whose tx had no outcome within the timeout: moved to UNKNOWN."""
    adopted_late: int = 0
    """UNKNOWN orders found live afterwards (late SUBMIT or contract state) and adopted."""
    given_up: int = 0
    """UNKNOWN orders never seen on chain until the retention window ended: rejected with an alert."""


def reject_reason(text: str) -> RejectReason:
    try:
        return RejectReason(text)
    except ValueError:
        return RejectReason.VENUE_ERROR
