"""Alembic environment: runs on the connection handed over by flashmm_engine.db.migrate."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from flashmm_engine.db.engine import make_engine


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if isinstance(connection, sa.Connection):
        _run(connection)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as own_connection:
            _run(own_connection)
    finally:
        engine.dispose()


def _run(connection: sa.Connection) -> None:
    context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
