"""One SQLAlchemy engine factory for every store user (registry, ledger, events)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from flashmm_engine.config.home import ensure_dir
from flashmm_engine.errors import CommandFailed, InputError
from flashmm_engine.telemetry.redact import redact_url

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
STORE_HINT = "check FLASHMM_HOME or FLASHMM_DATABASE__URL"


def make_engine(url: str) -> sa.Engine:
    """SQLite files get their parent directory created, WAL, foreign keys, and write-locking transactions;
    PostgreSQL gets pre-ping so a restarted server does not fail the next query."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise InputError(f"not a SQL store URL: {redact_url(url)}") from None
    log.debug("SQL store %s", redact_url(url))
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        ensure_dir(Path(parsed.database).parent, "the SQL store's directory", STORE_HINT)
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


@contextmanager
def store_errors(url: str) -> Iterator[None]:
    """Turn a store that cannot be reached or opened into one line naming it (password masked)."""
    try:
        yield
    except sa.exc.OperationalError as exc:
        reason = " ".join(str(exc.orig).split("\n", 1)[0].split())
        raise CommandFailed(f"cannot use the SQL store {redact_url(url)}: {reason}") from None
    except sa.exc.NoSuchModuleError as exc:
        raise InputError(f"SQL store {redact_url(url)}: unsupported driver ({exc})") from None
