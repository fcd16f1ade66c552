"""A real `flashmm replay watch --record` process, stopped with SIGTERM, loses no received message."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from flashmm_engine.marketdata.capture import iter_lines, split_line
from flashmm_engine.venues.binance.verify import verify_capture

STARTUP_WAIT_S = 20.0
EXIT_TIMEOUT_S = 20.0
MIN_MESSAGES = 800


@pytest.mark.slow
def test_sigterm_flushes_every_recorded_line(fixtures_dir: Path, tmp_path: Path) -> None:
    capture = fixtures_dir / "binance" / "spot_ethusdt_slice.raw.gz"
    record_dir = tmp_path / "raw"
    command = [
        sys.executable, "-c", "from flashmm_engine.cli import main; main()",
        "replay", "watch", str(capture), "--speed", "4", "--print-every", "0.2", "--record", str(record_dir),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + STARTUP_WAIT_S
        assert process.stderr is not None
        # the printer's lines say how many messages arrived: stop once the book is live and enough were
        # received (a count, not a time span), long before the 70 s capture ends (17 s at speed 4)
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            found = re.match(rb"bid .* msgs (\d+) ", line)
            if found and int(found.group(1)) >= MIN_MESSAGES:
                break
            assert process.poll() is None, "watch exited early"
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=EXIT_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr.decode()[-2000:]
    report = orjson.loads(stdout)
    assert report["ended_by"] == "signal"
    recorded = [split_line(line) for path in sorted(record_dir.iterdir()) for line in iter_lines(path)]
    assert len(recorded) == report["recorded_lines"] == report["messages"] >= MIN_MESSAGES
    assert report["snapshots"] >= 1
    # the recording is itself a valid capture: the last REST snapshot and the stream are all there
    raw_lines = [raw for _, raw in recorded]
    assert sum(1 for raw in raw_lines if raw.startswith(b'{"lastUpdateId"')) == report["snapshots"]
    stamps = [ts for ts, _ in recorded]
    assert stamps == sorted(stamps)
    joined = tmp_path / "joined.raw"
    joined.write_bytes(b"".join(b"%d %s\n" % pair for pair in recorded))
    verified = verify_capture(joined, "spot")
    assert verified["match_rate"] == 1.0 and verified["resyncs"] == 0 and verified["book_ticker_checked"] > 0
