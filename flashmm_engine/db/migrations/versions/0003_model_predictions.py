"""Table model_predictions: production and shadow-challenger predictions side by side, one row per
market and cycle the shadow predicted, for the daily comparison (engine/reload/predictions.py).

Revision ID: 0003_model_predictions
Revises: 0002_ledger
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_model_predictions"
down_revision = "0002_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_predictions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ts_ns", sa.BigInteger, nullable=False),
        sa.Column("instance_id", sa.String(32), nullable=False),
        sa.Column("market", sa.String(64), nullable=False),
        sa.Column("model_name", sa.String(128), nullable=False),
        sa.Column("mid_x2", sa.BigInteger, nullable=False),
        sa.Column("production_version", sa.String(64), nullable=True),
        sa.Column("production_expected_bps", sa.Float, nullable=True),
        sa.Column("production_probs", sa.JSON, nullable=True),
        sa.Column("shadow_version", sa.String(64), nullable=False),
        sa.Column("shadow_expected_bps", sa.Float, nullable=False),
        sa.Column("shadow_probs", sa.JSON, nullable=False),
        sa.Column("shadow_inference_ns", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_model_predictions_ts", "model_predictions", ["ts_ns"])


def downgrade() -> None:
    op.drop_index("ix_model_predictions_ts", "model_predictions")
    op.drop_table("model_predictions")
