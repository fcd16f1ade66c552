"""Model registry table model_versions, with at most one production version per model name.

Revision ID: 0001_model_versions
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_model_versions"
down_revision = None
branch_labels = None
depends_on = None

STAGES = "'candidate', 'validated', 'production', 'retired'"


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("metrics", sa.JSON, nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_model_versions_name_version"),
        sa.CheckConstraint(f"stage IN ({STAGES})", name="ck_model_versions_stage"),
    )
    # the database itself guarantees a single production version per name, whatever races above it
    op.create_index(
        "uq_model_versions_one_production",
        "model_versions",
        ["name"],
        unique=True,
        sqlite_where=sa.text("stage = 'production'"),
        postgresql_where=sa.text("stage = 'production'"),
    )


def downgrade() -> None:
    op.drop_index("uq_model_versions_one_production", table_name="model_versions")
    op.drop_table("model_versions")
