"""A materialization with Dagster's run and event storage on the real PostgreSQL (dagster-postgres), in
a database created for the test and dropped after it."""

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from flashmm_dagster.definitions import ASSETS
from flashmm_dagster.partitions import partition_key
from flashmm_dagster.resources import FlashmmResource

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def dagster_db() -> Iterator[str]:
    name = f"dagster_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def test_materialize_with_postgres_run_and_event_storage(
    dagster_db: str, tmp_path: Path, fixtures_dir: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(fixtures_dir / "binance" / "spot_ethusdt_slice.raw.gz", drop)
    postgres = {"postgres_db": {"hostname": "127.0.0.1", "port": 5432, "username": "postgres",
                                "password": "", "db_name": dagster_db}}  # fmt: skip
    overrides = {"storage": {"postgres": postgres}}
    resource = FlashmmResource(home=str(tmp_path / "home"), drop_dirs=[str(drop)])
    with dg.instance_for_test(overrides=overrides) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        key = partition_key("2024-08-08-23:00", "binance-spot-ethusdt")
        result = dg.materialize(
            ASSETS, instance=instance, resources={"flashmm": resource},
            selection=["raw_segments", "market_events"], partition_key=str(key),
        )  # fmt: skip
        assert result.success
        run_id = result.run_id
    engine = sa.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{dagster_db}")
    try:
        with engine.connect() as conn:
            status = conn.execute(
                sa.text("SELECT status FROM runs WHERE run_id = :r"), {"r": run_id}
            ).scalar_one()
            materialized = conn.execute(
                sa.text(
                    "SELECT count(*) FROM event_logs WHERE run_id = :r"
                    " AND dagster_event_type = 'ASSET_MATERIALIZATION'"
                ),
                {"r": run_id},
            ).scalar_one()  # fmt: skip
            checks = conn.execute(
                sa.text("SELECT count(*) FROM asset_check_executions WHERE run_id = :r"), {"r": run_id}
            ).scalar_one()
    finally:
        engine.dispose()
    assert status == "SUCCESS"
    assert materialized == 2
    assert checks == 6
