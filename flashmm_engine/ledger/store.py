"""The ledger store: one SQLAlchemy engine, every write a single transaction.

`record_fill` is the money path: the fill row, the position, cash and fee totals and the venue cursor
change together or not at all, and a fill already recorded under the same (venue, fill id) is a no-op.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from flashmm_engine.db.engine import make_engine
from flashmm_engine.db.migrate import upgrade_to_head
from flashmm_engine.ledger import tables as t
from flashmm_engine.ledger.pnl import Book, apply_fill, cash_change
from flashmm_engine.types import Fill, OrderRequest, OrderStatus


class LedgerError(RuntimeError):
    """The ledger cannot do what was asked (e.g. a fill for a market it has no opening balance for)."""


@dataclass(frozen=True, slots=True)
class Holdings:
    """One market's ledger state: the trading book, cash and fees, all in lots and notional units."""

    book: Book
    opening_cash: int
    cash: int
    fees: int
    fills: int


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    client_id: str
    status: OrderStatus
    ts: int
    venue_order_id: str | None = None
    filled: int | None = None


class Ledger:
    def __init__(self, url: str, migrate: bool = True) -> None:
        if migrate:
            upgrade_to_head(url)
        self.url = url
        self.engine = make_engine(url)

    def close(self) -> None:
        self.engine.dispose()

    # --- fills: durable first, exactly once ---

    def record_fill(
        self, venue: str, instance_id: str, fill: Fill, cursor_seq: int | None = None
    ) -> Holdings | None:
        """Commit one fill with everything it changes. Returns the new holdings, or None for a duplicate."""
        now = time.time_ns()
        with self.engine.begin() as conn:
            if conn.execute(
                sa.select(t.fills.c.id).where(t.fills.c.venue == venue, t.fills.c.fill_id == fill.fill_id)
            ).first():
                if cursor_seq is not None:
                    _set_cursor(conn, instance_id, venue, cursor_seq)
                return None
            row = _locked_position(conn, venue, fill.market)
            if row is None:
                raise LedgerError(f"fill {fill.fill_id} for {venue}/{fill.market}: no opening balance")
            conn.execute(sa.insert(t.fills).values(_fill_row(venue, instance_id, fill, now)))
            book = apply_fill(_book(row), fill.side, fill.price, fill.size)
            conn.execute(
                sa.update(t.positions)
                .where(t.positions.c.venue == venue, t.positions.c.market == fill.market)
                .values(
                    position=book.position,
                    cost_basis=book.cost_basis,
                    realized_pnl=book.realized_pnl,
                    updated_ns=now,
                )
            )
            delta = cash_change(fill.side, fill.price, fill.size, fill.fee)
            conn.execute(
                sa.update(t.cash)
                .where(t.cash.c.venue == venue, t.cash.c.market == fill.market)
                .values(cash=t.cash.c.cash + delta, updated_ns=now)
            )
            _add_fee(conn, venue, fill)
            conn.execute(
                sa.update(t.orders)
                .where(t.orders.c.client_id == fill.client_id)
                .values(
                    filled=t.orders.c.filled + fill.size,
                    status=(OrderStatus.PARTIALLY_FILLED if fill.remaining else OrderStatus.FILLED).value,
                    venue_order_id=fill.venue_order_id,
                    updated_ns=now,
                )
            )
            if cursor_seq is not None:
                _set_cursor(conn, instance_id, venue, cursor_seq)
            return _holdings(conn, venue, fill.market)

    def open_market(self, venue: str, market: str, position: int, cash: int, ts: int) -> bool:
        """Adopt the venue's balances as the opening balance of a market the ledger has never seen.
        Returns False (and changes nothing) when the market is already open."""
        with self.engine.begin() as conn:
            if _locked_position(conn, venue, market) is not None:
                return False
            conn.execute(
                sa.insert(t.positions).values(
                    venue=venue,
                    market=market,
                    opening_position=position,
                    position=position,
                    cost_basis=0,
                    realized_pnl=0,
                    updated_ns=ts,
                )
            )
            conn.execute(
                sa.insert(t.cash).values(
                    venue=venue, market=market, opening_cash=cash, cash=cash, updated_ns=ts
                )
            )
            return True

    def holdings(self, venue: str, market: str) -> Holdings | None:
        with self.engine.connect() as conn:
            return _holdings(conn, venue, market)

    def fill_ids(self, venue: str) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.fills.c.fill_id).where(t.fills.c.venue == venue))
            return [r.fill_id for r in rows]

    # --- venue cursor (last private-event sequence applied) ---

    def cursor(self, instance_id: str, venue: str) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(t.cursors.c.last_seq).where(
                    t.cursors.c.instance_id == instance_id, t.cursors.c.venue == venue
                )
            ).scalar()
            return int(value) if value is not None else 0

    def set_cursor(self, instance_id: str, venue: str, seq: int) -> None:
        with self.engine.begin() as conn:
            _set_cursor(conn, instance_id, venue, seq)

    # --- orders ---

    def record_orders(self, venue: str, instance_id: str, orders: Sequence[OrderRequest], ts: int) -> None:
        if not orders:
            return
        rows = [
            {
                "client_id": o.client_id,
                "instance_id": instance_id,
                "venue": venue,
                "market": o.market,
                "side": o.side.sign,
                "price": o.price,
                "size": o.size,
                "filled": 0,
                "status": OrderStatus.PENDING.value,
                "venue_order_id": None,
                "created_ns": ts,
                "updated_ns": ts,
            }
            for o in orders
        ]
        with self.engine.begin() as conn:
            conn.execute(sa.insert(t.orders), rows)

    def update_orders(self, updates: Sequence[OrderUpdate]) -> None:
        if not updates:
            return
        with self.engine.begin() as conn:
            for u in updates:
                values: dict[str, Any] = {"status": u.status.value, "updated_ns": u.ts}
                if u.venue_order_id is not None:
                    values["venue_order_id"] = u.venue_order_id
                if u.filled is not None:
                    values["filled"] = u.filled
                conn.execute(sa.update(t.orders).where(t.orders.c.client_id == u.client_id).values(**values))

    def known_orders(self, client_ids: Sequence[str]) -> set[str]:
        if not client_ids:
            return set()
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.orders.c.client_id).where(t.orders.c.client_id.in_(client_ids)))
            return {r.client_id for r in rows}

    def order_status(self, client_id: str) -> OrderStatus | None:
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(t.orders.c.status).where(t.orders.c.client_id == client_id)
            ).scalar()
            return OrderStatus(value) if value is not None else None

    # --- engine events ---

    def record_event(
        self, instance_id: str, kind: str, detail: dict[str, Any], market: str | None = None, ts: int = 0
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(t.events).values(
                    ts_ns=ts or time.time_ns(),
                    instance_id=instance_id,
                    market=market,
                    kind=kind,
                    detail=detail,
                )
            )

    def events(self, kind: str | None = None, instance_id: str | None = None) -> list[dict[str, Any]]:
        query = sa.select(t.events).order_by(t.events.c.id)
        if kind is not None:
            query = query.where(t.events.c.kind == kind)
        if instance_id is not None:
            query = query.where(t.events.c.instance_id == instance_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    # --- client-id sequences (execution's SequenceStore) ---

    def reserve(self, instance_id: str, count: int) -> int:
        """Reserve `count` sequence numbers for an instance; returns the first. A crash loses at most the
        unused rest of a block, never reuses a number."""
        if count <= 0:
            raise ValueError(f"reserve count must be positive, got {count}")
        with self.engine.begin() as conn:
            _insert_missing(conn, t.sequences, {"instance_id": instance_id, "next_seq": 1})
            current = conn.execute(
                sa.select(t.sequences.c.next_seq)
                .where(t.sequences.c.instance_id == instance_id)
                .with_for_update()
            ).scalar_one()
            conn.execute(
                sa.update(t.sequences)
                .where(t.sequences.c.instance_id == instance_id)
                .values(next_seq=int(current) + count)
            )
            return int(current)


def _fill_row(venue: str, instance_id: str, fill: Fill, now: int) -> dict[str, Any]:
    return {
        "venue": venue,
        "fill_id": fill.fill_id,
        "instance_id": instance_id,
        "client_id": fill.client_id,
        "venue_order_id": fill.venue_order_id,
        "market": fill.market,
        "side": fill.side.sign,
        "price": fill.price,
        "size": fill.size,
        "fee": fill.fee,
        "liquidity": fill.liquidity.value,
        "ts": fill.ts,
        "recorded_ns": now,
    }


def _locked_position(conn: sa.Connection, venue: str, market: str) -> sa.Row[Any] | None:
    query = (
        sa.select(t.positions)
        .where(t.positions.c.venue == venue, t.positions.c.market == market)
        .with_for_update()
    )
    return conn.execute(query).first()


def _book(row: sa.Row[Any]) -> Book:
    return Book(int(row.opening_position), int(row.position), int(row.cost_basis), int(row.realized_pnl))


def _add_fee(conn: sa.Connection, venue: str, fill: Fill) -> None:
    liquidity = fill.liquidity.value
    row = {"venue": venue, "market": fill.market, "liquidity": liquidity, "fees": 0, "fills": 0}
    _insert_missing(conn, t.fees, row)
    key = (t.fees.c.venue == venue, t.fees.c.market == fill.market, t.fees.c.liquidity == liquidity)
    conn.execute(
        sa.update(t.fees).where(*key).values(fees=t.fees.c.fees + fill.fee, fills=t.fees.c.fills + 1)
    )


def _set_cursor(conn: sa.Connection, instance_id: str, venue: str, seq: int) -> None:
    _insert_missing(conn, t.cursors, {"instance_id": instance_id, "venue": venue, "last_seq": 0})
    key = (t.cursors.c.instance_id == instance_id, t.cursors.c.venue == venue)
    conn.execute(sa.update(t.cursors).where(*key, t.cursors.c.last_seq < seq).values(last_seq=seq))


def _insert_missing(conn: sa.Connection, table: sa.Table, row: dict[str, Any]) -> None:
    """INSERT the row unless its primary key exists (safe against a concurrent insert of the same key)."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(insert(table).values(**row).on_conflict_do_nothing())


def _holdings(conn: sa.Connection, venue: str, market: str) -> Holdings | None:
    pos = conn.execute(
        sa.select(t.positions).where(t.positions.c.venue == venue, t.positions.c.market == market)
    ).first()
    if pos is None:
        return None
    money = conn.execute(sa.select(t.cash).where(t.cash.c.venue == venue, t.cash.c.market == market)).one()
    fee_rows = conn.execute(
        sa.select(t.fees.c.fees, t.fees.c.fills).where(t.fees.c.venue == venue, t.fees.c.market == market)
    ).all()
    return Holdings(
        _book(pos),
        int(money.opening_cash),
        int(money.cash),
        sum(int(r.fees) for r in fee_rows),
        sum(int(r.fills) for r in fee_rows),
    )
