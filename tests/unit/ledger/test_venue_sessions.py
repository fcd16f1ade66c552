"""Switching the ledger to a new venue session (SQLite file, real migrations): the instance's working
orders at that venue are expired, other instances' and finished orders are left alone, the cursor restarts
at 0, and the session is what a later start resumes in."""

from __future__ import annotations

from pathlib import Path

from flashmm_engine.ledger.sessions import start_venue_session, venue_session
from flashmm_engine.ledger.store import Ledger, OrderUpdate
from flashmm_engine.types import OrderRequest, OrderStatus, Side

VENUE = "sim/SIM:ETHUSD"
MARKET = "SIM:ETHUSD"


def order(client_id: str) -> OrderRequest:
    return OrderRequest(client_id, MARKET, Side.BUY, 100, 1)


def test_a_new_session_expires_the_working_orders_and_restarts_the_cursor(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        assert venue_session(ledger, "e1", VENUE) is None
        assert start_venue_session(ledger, "e1", VENUE, MARKET, "s1", None, 1) == 0
        ledger.record_orders(VENUE, "e1", [order("e1-1"), order("e1-2"), order("e1-3")], 2)
        ledger.record_orders(VENUE, "e2", [order("e2-1")], 2)
        ledger.update_orders(
            [OrderUpdate("e1-2", OrderStatus.OPEN, 3), OrderUpdate("e1-3", OrderStatus.FILLED, 3)]
        )
        ledger.set_cursor("e1", VENUE, 40)
        assert venue_session(ledger, "e1", VENUE) == "s1" and ledger.cursor("e1", VENUE) == 40

        assert start_venue_session(ledger, "e1", VENUE, MARKET, "s2", "s1", 4) == 2
        statuses = {c: ledger.order_status(c) for c in ("e1-1", "e1-2", "e1-3", "e2-1")}
        assert statuses == {
            "e1-1": OrderStatus.EXPIRED,
            "e1-2": OrderStatus.EXPIRED,
            "e1-3": OrderStatus.FILLED,
            "e2-1": OrderStatus.PENDING,
        }
        assert ledger.cursor("e1", VENUE) == 0
        assert venue_session(ledger, "e1", VENUE) == "s2"
        assert venue_session(ledger, "e2", VENUE) is None
        (event,) = [e for e in ledger.events("venue_session") if e["detail"]["session"] == "s2"]
        assert event["detail"]["expired_orders"] == 2 and event["detail"]["reason"] == "venue_session_ended"
    finally:
        ledger.close()
