"""Control API audit: every control action (refused authentication included) with when, which token id
(a non-secret digest prefix, never the token), the peer, the action and its result.

Revision ID: 0004_control_audit
Revises: 0003_model_predictions
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_control_audit"
down_revision = "0003_model_predictions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "control_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at_ns", sa.BigInteger, nullable=False),
        sa.Column("instance_id", sa.String(32), nullable=False),
        sa.Column("token_id", sa.String(16), nullable=True),
        sa.Column("peer", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("result", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_control_audit_at", "control_audit", ["at_ns"])


def downgrade() -> None:
    op.drop_index("ix_control_audit_at", table_name="control_audit")
    op.drop_table("control_audit")
