"""The ledger against real SQLite (WAL) and real PostgreSQL: exactly-once fills, PnL, sequences, cursors."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from flashmm_engine.ledger.store import Ledger, LedgerError, OrderUpdate
from flashmm_engine.types import NOTIONAL_SCALE, Fill, Liquidity, OrderRequest, OrderStatus, Side

VENUE = "sim/SIM:ETHUSD"
MARKET = "SIM:ETHUSD"
S = NOTIONAL_SCALE


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def ledger(ledger_url: str) -> Ledger:
    store = Ledger(ledger_url)
    store.open_market(VENUE, MARKET, position=10_000, cash=5_000 * S, ts=1)
    return store


def fill(fill_id: str, side: Side, price: int, size: int, fee: int = 0, remaining: int = 0) -> Fill:
    return Fill(fill_id, "e1-1", "V1", MARKET, side, price, size, fee, Liquidity.MAKER, 10, remaining)


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    store = Ledger(f"sqlite:///{tmp_path / 'wal.db'}")
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()


def test_a_duplicate_fill_is_a_no_op(ledger: Ledger) -> None:
    first = ledger.record_fill(VENUE, "e1", fill("F1", Side.BUY, 100, 5, fee=250))
    assert first is not None
    assert ledger.record_fill(VENUE, "e1", fill("F1", Side.BUY, 100, 5, fee=250)) is None
    after = ledger.holdings(VENUE, MARKET)
    assert after == first
    assert after.book.position == 10_005 and after.fills == 1 and after.fees == 250
    assert after.cash == 5_000 * S - 500 * S - 250
    assert ledger.fill_ids(VENUE) == ["F1"]


def test_the_same_fill_id_on_another_venue_is_a_different_fill(ledger: Ledger) -> None:
    ledger.open_market("sim/OTHER", MARKET, 0, 0, 1)
    assert ledger.record_fill(VENUE, "e1", fill("F1", Side.BUY, 100, 1)) is not None
    assert ledger.record_fill("sim/OTHER", "e1", fill("F1", Side.BUY, 100, 1)) is not None


def test_realized_and_unrealized_pnl_in_notional_units(ledger: Ledger) -> None:
    ledger.record_fill(VENUE, "e1", fill("F1", Side.BUY, 100, 10))
    held = ledger.record_fill(VENUE, "e1", fill("F2", Side.SELL, 110, 4, fee=-3))
    assert held is not None
    assert held.book.trading_position == 6
    assert held.book.realized_pnl == 40 * S
    assert held.book.unrealized_pnl(120) == 120 * S
    assert held.fees == -3
    assert held.cash == 5_000 * S - 1_000 * S + 440 * S + 3


def test_a_fill_for_a_market_without_opening_balance_is_refused(ledger: Ledger) -> None:
    stray = Fill("F9", "e1-1", "V", "NOPE", Side.BUY, 1, 1, 0, Liquidity.MAKER, 1)
    with pytest.raises(LedgerError, match="no opening balance"):
        ledger.record_fill(VENUE, "e1", stray)
    assert ledger.fill_ids(VENUE) == []


def test_opening_balance_is_adopted_once(ledger: Ledger) -> None:
    assert not ledger.open_market(VENUE, MARKET, position=1, cash=1, ts=2)
    held = ledger.holdings(VENUE, MARKET)
    assert held is not None and held.book.opening_position == 10_000


def test_fill_updates_the_order_and_the_cursor_in_one_transaction(ledger: Ledger) -> None:
    ledger.record_orders(VENUE, "e1", [OrderRequest("e1-1", MARKET, Side.BUY, 100, 8)], ts=5)
    ledger.record_fill(VENUE, "e1", fill("F1", Side.BUY, 100, 3, remaining=5), cursor_seq=7)
    assert ledger.order_status("e1-1") is OrderStatus.PARTIALLY_FILLED
    assert ledger.cursor("e1", VENUE) == 7
    ledger.record_fill(VENUE, "e1", fill("F2", Side.BUY, 100, 5), cursor_seq=9)
    assert ledger.order_status("e1-1") is OrderStatus.FILLED
    ledger.set_cursor("e1", VENUE, 4)  # never moves back
    assert ledger.cursor("e1", VENUE) == 9
    ledger.update_orders([OrderUpdate("e1-1", OrderStatus.CANCELLED, 11)])
    assert ledger.order_status("e1-1") is OrderStatus.CANCELLED
    assert ledger.known_orders(["e1-1", "e1-2"]) == {"e1-1"}


def test_sequence_blocks_never_overlap_across_concurrent_writers(ledger_url: str) -> None:
    stores = [Ledger(ledger_url, migrate=i == 0) for i in range(4)]
    starts: list[int] = []
    lock = threading.Lock()

    def reserve(store: Ledger) -> None:
        for _ in range(10):
            first = store.reserve("e1", 100)
            with lock:
                starts.append(first)

    threads = [threading.Thread(target=reserve, args=(s,)) for s in stores]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(starts) == [1 + 100 * i for i in range(40)]
    assert stores[0].reserve("e2", 5) == 1
    for store in stores:
        store.close()


def test_events_are_recorded_with_their_detail(ledger: Ledger) -> None:
    ledger.record_event("e1", "state_change", {"to": "halted", "reason": "reconcile"}, market=MARKET)
    (event,) = ledger.events("state_change")
    assert event["detail"] == {"to": "halted", "reason": "reconcile"} and event["market"] == MARKET


def test_the_migration_chain_has_both_revisions(ledger: Ledger) -> None:
    from alembic.script import ScriptDirectory

    from flashmm_engine.db.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config(str(ledger.engine.url))).get_current_head()
    with ledger.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == head
        assert sa.inspect(conn).has_table("model_versions")
        assert sa.inspect(conn).has_table("ledger_events")
