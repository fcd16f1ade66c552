"""Loader refusals through the real `flashmm` entry point: one line naming the problem, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flashmm_engine.models.artifact import MODEL_FILE
from flashmm_engine.models.export import ExportReport

FLASHMM = str(Path(sys.executable).parent / "flashmm")
RUN_TIMEOUT_S = 300.0
SPOT = str(Path(__file__).parents[2] / "fixtures" / "binance" / "spot_ethusdt_slice.raw.gz")


@pytest.mark.parametrize(
    "command",
    [("bench", "inference"), ("model", "evaluate")],
    ids=" ".join,
)
def test_a_checksum_mismatch_is_one_line_and_exit_2(
    command: tuple[str, ...], exported: ExportReport, tmp_path: Path
) -> None:
    path = exported.model_dir / MODEL_FILE
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    path.write_bytes(bytes(damaged))
    args = [FLASHMM, *command, str(exported.model_dir)]
    if command[0] == "model":
        args += ["--data", SPOT, "--market", "spot"]
    env = {**os.environ, "FLASHMM_HOME": str(tmp_path)}
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=RUN_TIMEOUT_S)
    assert done.returncode == 2, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert lines[0].startswith(f"flashmm: model {exported.model_dir} refused: ") and "sha256" in lines[0]
    assert done.stdout == ""
