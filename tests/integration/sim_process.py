"""Runs `flashmm venue sim` as a real subprocess for integration tests, and checks it stops cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

STOP_TIMEOUT_S = 15.0


@contextmanager
def sim_venue_process(
    args: list[str], env_overrides: dict[str, str], cwd: Path, secrets: tuple[str, ...] = ()
) -> Iterator[dict[str, Any]]:
    """Start the venue, yield its start-up line (JSON with "url"), then SIGTERM it and check its exit.

    The venue must exit 0 on SIGTERM, and none of `secrets` may appear in what it logged."""
    flashmm = Path(sys.executable).parent / "flashmm"
    proc = subprocess.Popen(
        [str(flashmm), "venue", "sim", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **env_overrides},
        cwd=cwd,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read().decode() if proc.stderr else "venue exited"
        yield json.loads(line)
    finally:
        proc.terminate()
        try:
            _, stderr = proc.communicate(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
            raise AssertionError(f"venue ignored SIGTERM: {stderr.decode()[-2000:]}") from None
        assert proc.returncode == 0, stderr.decode()[-2000:]
        for secret in secrets:
            assert secret not in stderr.decode(), "a secret leaked into the logs"
