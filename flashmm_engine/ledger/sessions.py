"""Venue sessions in the ledger: which session of a venue process the (instance, venue) cursor counts in.

A restarted venue (a new session) has none of the old session's orders and numbers its private events
from 1 again. Switching is one transaction: the instance's working orders at that venue are expired (they
are gone with the session; the reason is in the event), the cursor restarts at 0, and a `venue_session`
event records the switch, so an engine that starts later resumes in the right session.
"""

from __future__ import annotations

import sqlalchemy as sa

from flashmm_engine.ledger import tables as t
from flashmm_engine.ledger.store import Ledger
from flashmm_engine.types import OrderStatus

SESSION_EVENT = "venue_session"
SESSION_ENDED = "venue_session_ended"
"""Why the old session's working orders were expired."""
WORKING_OR_UNKNOWN = tuple(
    s.value
    for s in (OrderStatus.PENDING, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.UNKNOWN)
)


def venue_session(ledger: Ledger, instance_id: str, venue: str) -> str | None:
    """The session the cursor of (instance, venue) counts in (None: never recorded)."""
    query = (
        sa.select(t.events.c.detail)
        .where(t.events.c.kind == SESSION_EVENT, t.events.c.instance_id == instance_id)
        .order_by(t.events.c.id.desc())
    )
    with ledger.engine.connect() as conn:
        for (detail,) in conn.execute(query):
            if detail.get("venue") == venue:
                return str(detail["session"])
    return None


def start_venue_session(
    ledger: Ledger, instance_id: str, venue: str, market: str, session: str, previous: str | None, ts: int
) -> int:
    """Switch to `session`; returns how many working orders of the previous one were expired. With no
    previous session (the first one this ledger sees) nothing is expired and the cursor is kept."""
    expired = 0
    with ledger.engine.begin() as conn:
        if previous is not None:
            result = conn.execute(
                sa.update(t.orders)
                .where(
                    t.orders.c.instance_id == instance_id,
                    t.orders.c.venue == venue,
                    t.orders.c.status.in_(WORKING_OR_UNKNOWN),
                )
                .values(status=OrderStatus.EXPIRED.value, updated_ns=ts)
            )
            expired = int(result.rowcount)
            conn.execute(
                sa.update(t.cursors)
                .where(t.cursors.c.instance_id == instance_id, t.cursors.c.venue == venue)
                .values(last_seq=0)
            )
        detail = {
            "venue": venue,
            "session": session,
            "previous": previous,
            "expired_orders": expired,
            "reason": SESSION_ENDED if previous is not None else "first_session",
        }
        conn.execute(
            sa.insert(t.events).values(
                ts_ns=ts, instance_id=instance_id, market=market, kind=SESSION_EVENT, detail=detail
            )
        )
    return expired
