"""One step on the celery executor: a real celery worker (`dagster-celery worker start`) against the local
Redis as broker and backend runs the steps of `ingest_on_celery`; the test waits for the worker to answer a
ping, launches the run, and checks the steps ran in the worker's process, not this one."""

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml
from celery import Celery

from flashmm_dagster.celery_location import celery_run_config, ingest_on_celery
from flashmm_dagster.partitions import partition_key

PING_ATTEMPTS = 60
PING_TIMEOUT_S = 1.0
STOP_TIMEOUT_S = 20


@pytest.fixture
def celery_env(
    tmp_path: Path, redis_url: str, fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(fixtures_dir / "binance" / "spot_ethusdt_slice.raw.gz", drop)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {
        "DAGSTER_HOME": str(home),
        "FLASHMM_HOME": str(tmp_path / "flashmm_home"),
        "FLASHMM_PIPELINE__DROP_DIRS": f'["{drop}"]',
        "FLASHMM_DAGSTER_CELERY_BROKER": redis_url,
        "FLASHMM_DAGSTER_CELERY_BACKEND": redis_url,
        "GX_ANALYTICS_ENABLED": "false",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def worker(celery_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    config = tmp_path / "celery.yaml"
    broker = celery_env["FLASHMM_DAGSTER_CELERY_BROKER"]
    config.write_text(yaml.safe_dump({"execution": {"config": {"broker": broker, "backend": broker}}}))
    log = (tmp_path / "worker.log").open("wb")
    cli = Path(sys.executable).parent / "dagster-celery"
    # dagster-celery runs `celery` from PATH
    worker_env = {**os.environ, **celery_env, "PATH": f"{cli.parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.Popen(
        [str(cli), "worker", "start", "-A", "dagster_celery.app", "-y", str(config), "-n", "flashmm-test",
         "--", "--concurrency", "1", "--pool", "solo"],
        env=worker_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    app = Celery(broker=broker, backend=broker)
    try:
        for _ in range(PING_ATTEMPTS):
            if proc.poll() is not None:
                raise AssertionError(f"worker exited: {(tmp_path / 'worker.log').read_text()[-2000:]}")
            if app.control.ping(timeout=PING_TIMEOUT_S):
                break
        else:
            raise AssertionError(f"worker never answered: {(tmp_path / 'worker.log').read_text()[-2000:]}")
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(STOP_TIMEOUT_S)
        log.close()


def test_steps_run_on_a_celery_worker(worker: subprocess.Popen[bytes], celery_env: dict[str, str]) -> None:
    key = partition_key("2024-08-08-23:00", "binance-spot-ethusdt")
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(
            dg.reconstructable(ingest_on_celery),
            instance=instance,
            run_config=celery_run_config(),
            tags={"dagster/partition": str(key)},
        )
        failures = [e.message for e in result.all_events if e.is_failure]
        assert result.success, failures
        starts = [e for e in result.all_events if e.event_type_value == "STEP_START"]
        assert {e.step_key for e in starts} == {"raw_segments", "market_events"}
        assert all(e.pid != os.getpid() for e in starts)
        checks = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
        assert len(checks) == 6
