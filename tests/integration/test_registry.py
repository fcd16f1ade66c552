"""The model registry on SQLite and on the real PostgreSQL: stages, promotion, rollback, and a
database-enforced single production version that racing promoters cannot break."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from flashmm_engine.db.engine import make_engine
from flashmm_engine.db.migrate import upgrade_to_head
from flashmm_engine.models.registry import ModelRegistry, RegistryError

RACERS = 6


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/nested/registry.db"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def registry(db_url: str) -> Iterator[ModelRegistry]:
    reg = ModelRegistry(db_url)
    yield reg
    reg.close()


def add_validated(registry: ModelRegistry, name: str, versions: list[str]) -> None:
    for version in versions:
        registry.register(name, version, f"models/{name}/{version}", "ab" * 32, {"n": 1})
        registry.promote(name, version, "validated")


def production_count(url: str, name: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            query = sa.text("SELECT count(*) FROM model_versions WHERE name = :n AND stage = 'production'")
            return int(conn.execute(query, {"n": name}).scalar_one())
    finally:
        engine.dispose()


def test_lifecycle_promote_list_rollback(registry: ModelRegistry) -> None:
    add_validated(registry, "m", ["v1", "v2", "v3"])
    registry.register("other", "v1", "models/other/v1", "cd" * 32, {})
    for version in ("v1", "v2", "v3"):
        registry.promote("m", version, "production")
    assert [(v.version, v.stage) for v in registry.list("m")] == [
        ("v1", "retired"),
        ("v2", "retired"),
        ("v3", "production"),
    ]
    assert registry.get("m", "v3").metrics == {"n": 1}
    assert registry.rollback("m").model.version == "v2"
    assert registry.rollback("m").model.version == "v1"  # repeated rollbacks walk further back
    with pytest.raises(RegistryError, match="no previously promoted"):
        registry.rollback("m")
    assert registry.production("m") is not None and registry.production("m").version == "v1"  # type: ignore[union-attr]
    assert registry.production("other") is None
    assert len(registry.list()) == 4


def test_illegal_transitions_are_refused(registry: ModelRegistry) -> None:
    registry.register("m", "v1", "p", "ab" * 32, {})
    with pytest.raises(RegistryError, match="cannot go from candidate to production"):
        registry.promote("m", "v1", "production")
    with pytest.raises(RegistryError, match="no model"):
        registry.promote("m", "nope", "validated")
    registry.promote("m", "v1", "retired")
    with pytest.raises(RegistryError, match="cannot go from retired to production"):
        registry.promote("m", "v1", "production")


def test_the_database_itself_forbids_two_production_versions(registry: ModelRegistry, db_url: str) -> None:
    add_validated(registry, "m", ["v1", "v2"])
    registry.promote("m", "v1", "production")
    engine = make_engine(db_url)
    try:
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("UPDATE model_versions SET stage = 'production' WHERE version = 'v2'"))
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text("UPDATE model_versions SET stage = 'shipped' WHERE version = 'v2'"))
    finally:
        engine.dispose()


def test_migrations_are_idempotent(db_url: str) -> None:
    upgrade_to_head(db_url)
    upgrade_to_head(db_url)
    engine = make_engine(db_url)
    try:
        assert "model_versions" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_racing_threads_leave_exactly_one_production(registry: ModelRegistry, db_url: str) -> None:
    versions = [f"v{i}" for i in range(RACERS)]
    add_validated(registry, "m", versions)
    barrier = threading.Barrier(RACERS)
    errors: list[BaseException] = []

    def promote(version: str) -> None:
        own = ModelRegistry(db_url, migrate=False)
        try:
            barrier.wait()
            own.promote("m", version, "production")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=promote, args=(v,)) for v in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert production_count(db_url, "m") == 1
    stages = sorted(v.stage for v in registry.list("m"))
    assert stages == ["production"] + ["retired"] * (RACERS - 1)


def _promote_in_process(url: str, version: str, start: float) -> None:
    import time

    time.sleep(max(0.0, start - time.time()))
    registry = ModelRegistry(url, migrate=False)
    try:
        registry.promote("m", version, "production")
    finally:
        registry.close()


@pytest.mark.slow
def test_racing_processes_leave_exactly_one_production(registry: ModelRegistry, db_url: str) -> None:
    import time

    versions = [f"p{i}" for i in range(4)]
    add_validated(registry, "m", versions)
    context = multiprocessing.get_context("spawn")  # no fork: the session may hold torch threads
    start = time.time() + 3.0  # spawned interpreters need a moment to import
    processes = [context.Process(target=_promote_in_process, args=(db_url, v, start)) for v in versions]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0] * len(versions)
    assert production_count(db_url, "m") == 1
