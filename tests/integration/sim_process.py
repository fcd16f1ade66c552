"""Runs `flashmm venue sim` as a real subprocess for integration tests, and checks it stops cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

STOP_TIMEOUT_S = 15.0


@contextmanager
def sim_venue_process(
    args: list[str], env_overrides: dict[str, str], cwd: Path, secrets: tuple[str, ...] = ()
) -> Iterator[dict[str, Any]]:
    """Start the venue, yield its start-up line (JSON with "url"), then SIGTERM it and check its exit.

    The venue must exit 0 on SIGTERM, and none of `secrets` may appear in what it logged. Its log goes to a
    file, not a pipe: nobody reads a pipe while the test runs, and a full one would stall the venue."""
    flashmm = Path(sys.executable).parent / "flashmm"
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [str(flashmm), "venue", "sim", *args],
            stdout=subprocess.PIPE,
            stderr=log,
            env={**os.environ, **env_overrides},
            cwd=cwd,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line, _tail(log) or "venue exited"
            yield json.loads(line)
        finally:
            proc.terminate()
            try:
                proc.communicate(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                raise AssertionError(f"venue ignored SIGTERM: {_tail(log)}") from None
            logged = _tail(log, limit=None)
            assert proc.returncode == 0, logged[-2000:]
            for secret in secrets:
                assert secret not in logged, "a secret leaked into the logs"


def _tail(log: IO[bytes], limit: int | None = 2000) -> str:
    log.seek(0)
    text = log.read().decode(errors="replace")
    return text if limit is None else text[-limit:]
