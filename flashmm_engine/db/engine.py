"""One SQLAlchemy engine factory for every store user (registry, ledger, events)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str) -> sa.Engine:
    """SQLite files get their parent directory created, WAL, foreign keys, and write-locking transactions;
    PostgreSQL gets pre-ping so a restarted server does not fail the next query."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # let SQLAlchemy, not the driver, decide when transactions begin (see _sqlite_begin)
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    # BEGIN IMMEDIATE takes the write lock up front: two racing read-then-write transactions queue on
    # the busy timeout instead of one failing with "database is locked" when it upgrades its lock
    connection.exec_driver_sql("BEGIN IMMEDIATE")
