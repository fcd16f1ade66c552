"""Ledger tables: orders, fills (unique per venue and fill id), positions, cash, fees, engine events,
client-id sequences per engine instance, and private-event cursors per instance and venue.

Revision ID: 0002_ledger
Revises: 0001_model_versions
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_ledger"
down_revision = "0001_model_versions"
branch_labels = None
depends_on = None

BIG = sa.BigInteger  # notional units: exact 64-bit integers in SQLite and PostgreSQL


def upgrade() -> None:
    op.create_table(
        "ledger_orders",
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
    op.create_index("ix_ledger_orders_instance_status", "ledger_orders", ["instance_id", "status"])
    op.create_table(
        "ledger_fills",
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
        sa.UniqueConstraint("venue", "fill_id", name="uq_ledger_fills_venue_fill"),
    )
    op.create_table(
        "ledger_positions",
        sa.Column("venue", sa.String(128), primary_key=True),
        sa.Column("market", sa.String(64), primary_key=True),
        sa.Column("opening_position", sa.BigInteger, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("cost_basis", BIG, nullable=False),
        sa.Column("realized_pnl", BIG, nullable=False),
        sa.Column("updated_ns", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "ledger_cash",
        sa.Column("venue", sa.String(128), primary_key=True),
        sa.Column("market", sa.String(64), primary_key=True),
        sa.Column("opening_cash", BIG, nullable=False),
        sa.Column("cash", BIG, nullable=False),
        sa.Column("updated_ns", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "ledger_fees",
        sa.Column("venue", sa.String(128), primary_key=True),
        sa.Column("market", sa.String(64), primary_key=True),
        sa.Column("liquidity", sa.String(8), primary_key=True),
        sa.Column("fees", BIG, nullable=False),
        sa.Column("fills", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "ledger_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ts_ns", sa.BigInteger, nullable=False),
        sa.Column("instance_id", sa.String(32), nullable=False),
        sa.Column("market", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_ledger_events_kind", "ledger_events", ["kind"])
    op.create_table(
        "ledger_client_sequences",
        sa.Column("instance_id", sa.String(32), primary_key=True),
        sa.Column("next_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "ledger_venue_cursors",
        sa.Column("instance_id", sa.String(32), primary_key=True),
        sa.Column("venue", sa.String(128), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "ledger_venue_cursors",
        "ledger_client_sequences",
        "ledger_events",
        "ledger_fees",
        "ledger_cash",
        "ledger_positions",
        "ledger_fills",
        "ledger_orders",
    ):
        op.drop_table(table)
