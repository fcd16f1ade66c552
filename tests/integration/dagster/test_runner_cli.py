"""`python -m flashmm_dagster.runner` as a real process: progress on stderr, one JSON on stdout, and a
clear one-line error, exit 2, for a --data that is missing, a file, empty, or holds only other markets."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

RUN_TIMEOUT_S = 600
SPOT = "spot_ethusdt_slice.raw.gz"


def runner(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flashmm_dagster.runner", *args],
        env={**os.environ, "FLASHMM_HOME": str(tmp / "home"), **env},
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
    )  # fmt: skip


@pytest.mark.timeout(RUN_TIMEOUT_S)
def test_bad_data_folders_are_named_in_one_line(tmp_path: Path, fixtures_dir: Path) -> None:
    missing = runner(tmp_path, "--data", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and missing.stdout == ""
    assert f"--data {tmp_path / 'nowhere'} does not exist" in missing.stderr
    (tmp_path / "notes.raw.gz").write_bytes(b"not a capture")
    a_file = runner(tmp_path, "--data", str(tmp_path / "notes.raw.gz"))
    assert a_file.returncode == 2 and "is not a folder" in a_file.stderr

    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(tmp_path / "notes.raw.gz", other / "notes.raw.gz")
    shutil.copy(fixtures_dir / "binance" / SPOT, other / SPOT)
    wrong = runner(tmp_path, "--data", str(other), FLASHMM_PIPELINE__MARKETS='["binance-usdm-ethusdt"]')
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert f"skipping unreadable capture {other / 'notes.raw.gz'}" in wrong.stderr
    assert "captures of ['binance-spot-ethusdt'], none of the configured markets" in wrong.stderr
    assert "Traceback" not in wrong.stderr + missing.stderr + a_file.stderr


@pytest.mark.slow
@pytest.mark.timeout(RUN_TIMEOUT_S + 60)
def test_hourly_run_prints_progress_and_json(tmp_path: Path, fixtures_dir: Path) -> None:
    data = tmp_path / "data"
    (data / "binance").mkdir(parents=True)
    shutil.copy(fixtures_dir / "binance" / SPOT, data / "binance" / SPOT)
    # a $DAGSTER_HOME that does not exist yet, as `make` names in a fresh clone, is created
    done = runner(tmp_path, "--data", str(data), "--hourly-only", DAGSTER_HOME=str(tmp_path / "dagster_home"))
    assert done.returncode == 0, done.stderr[-3000:]
    progress = [line for line in done.stderr.splitlines() if line.startswith("flashmm: ")]
    assert progress[0] == f"flashmm: 1 partitions of ['binance-spot-ethusdt'] in {data}"
    hour = "2024-08-08-23:00"
    assert progress[1] == f"flashmm: ingest + features binance-spot-ethusdt {hour} .. {hour} ..."
    assert progress[2].startswith("flashmm: ingest + features binance-spot-ethusdt: done in ")
    assert progress[2].endswith("checks 9/9 passed")
    result = json.loads(done.stdout)
    assert result["partitions"] == ["2024-08-08-23:00|binance-spot-ethusdt"]
    assert result["hourly_runs"][0]["success"]
    assert (tmp_path / "dagster_home").is_dir()
