"""Shared fixtures: real PostgreSQL and Redis, and a guard that fails the run on skipped integration tests."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PG_URL = os.environ.get("FLASHMM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("FLASHMM_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
FIXTURES = Path(__file__).parent / "fixtures"
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")

# No test writes to the user's data directory: the default SQL store, artifacts and raw data of every
# test (and of every `flashmm` subprocess, which inherits the environment) live in one throwaway home.
TEST_HOME = Path(tempfile.mkdtemp(prefix="flashmm-test-home-"))
os.environ["FLASHMM_HOME"] = str(TEST_HOME)
# Every engine a test starts (in process or as a subprocess) gets its control API on a free port, so tests
# running side by side never fight over 8787; a test that needs the port reads it from the runtime.
os.environ.setdefault("FLASHMM_CONTROL__PORT", "0")

pytest_plugins = ["tests.integration.sei_support"]


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test may reach the network: a connection to a non-loopback address fails the test."""
    original = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and address[0] not in LOOPBACK_HOSTS:
            raise AssertionError(f"test tried to reach the network: {address}")
        return original(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose default schema is a fresh one, dropped afterwards."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis URL on a test database that is flushed before and after."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


_skipped_integration: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "integration" in report.keywords:
        _skipped_integration.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(TEST_HOME, ignore_errors=True)
    if _skipped_integration:
        print("\nFAILED: integration tests were skipped (they must run):")
        for nodeid in _skipped_integration:
            print(f"  {nodeid}")
        session.exitstatus = 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.fspath) or "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
