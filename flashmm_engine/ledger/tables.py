"""Ledger tables (SQLAlchemy Core). The schema itself is created by Alembic migration 0002_ledger."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

orders = sa.Table(
    "ledger_orders",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("instance_id", sa.String(32), nullable=False),
    sa.Column("venue", sa.String(128), nullable=False),
    sa.Column("market", sa.String(64), nullable=False),
    sa.Column("side", sa.SmallInteger, nullable=False),
    sa.Column("price", sa.BigInteger, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("filled", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("venue_order_id", sa.String(64), nullable=True),
    sa.Column("created_ns", sa.BigInteger, nullable=False),
    sa.Column("updated_ns", sa.BigInteger, nullable=False),
)

fills = sa.Table(
    "ledger_fills",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("venue", sa.String(128), nullable=False),
    sa.Column("fill_id", sa.String(128), nullable=False),
    sa.Column("instance_id", sa.String(32), nullable=False),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("venue_order_id", sa.String(64), nullable=False),
    sa.Column("market", sa.String(64), nullable=False),
    sa.Column("side", sa.SmallInteger, nullable=False),
    sa.Column("price", sa.BigInteger, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("fee", sa.BigInteger, nullable=False),
    sa.Column("liquidity", sa.String(8), nullable=False),
    sa.Column("ts", sa.BigInteger, nullable=False),
    sa.Column("recorded_ns", sa.BigInteger, nullable=False),
)

positions = sa.Table(
    "ledger_positions",
    metadata,
    sa.Column("venue", sa.String(128), primary_key=True),
    sa.Column("market", sa.String(64), primary_key=True),
    sa.Column("opening_position", sa.BigInteger, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("cost_basis", sa.BigInteger, nullable=False),
    sa.Column("realized_pnl", sa.BigInteger, nullable=False),
    sa.Column("updated_ns", sa.BigInteger, nullable=False),
)

cash = sa.Table(
    "ledger_cash",
    metadata,
    sa.Column("venue", sa.String(128), primary_key=True),
    sa.Column("market", sa.String(64), primary_key=True),
    sa.Column("opening_cash", sa.BigInteger, nullable=False),
    sa.Column("cash", sa.BigInteger, nullable=False),
    sa.Column("updated_ns", sa.BigInteger, nullable=False),
)

fees = sa.Table(
    "ledger_fees",
    metadata,
    sa.Column("venue", sa.String(128), primary_key=True),
    sa.Column("market", sa.String(64), primary_key=True),
    sa.Column("liquidity", sa.String(8), primary_key=True),
    sa.Column("fees", sa.BigInteger, nullable=False),
    sa.Column("fills", sa.BigInteger, nullable=False),
)

events = sa.Table(
    "ledger_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ts_ns", sa.BigInteger, nullable=False),
    sa.Column("instance_id", sa.String(32), nullable=False),
    sa.Column("market", sa.String(64), nullable=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
)

sequences = sa.Table(
    "ledger_client_sequences",
    metadata,
    sa.Column("instance_id", sa.String(32), primary_key=True),
    sa.Column("next_seq", sa.BigInteger, nullable=False),
)

cursors = sa.Table(
    "ledger_venue_cursors",
    metadata,
    sa.Column("instance_id", sa.String(32), primary_key=True),
    sa.Column("venue", sa.String(128), primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
)
