"""`flashmm replay serve` as a real process: the connector syncs against it; SIGINT prints the summary."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import time
from pathlib import Path

import orjson
import pytest

from flashmm_engine.venues.binance.feed import FeedConfig, open_live_feed

STARTUP_WAIT_S = 20.0
FEED_RUN_S = 2.0


@pytest.mark.slow
async def test_serve_command_feeds_the_connector(fixtures_dir: Path) -> None:
    capture = fixtures_dir / "binance" / "usdm_ethusdt_slice.raw.gz"
    command = [
        sys.executable, "-c", "from flashmm_engine.cli import main; main()",
        "replay", "serve", str(capture), "--speed", "5", "--drop", "0.01", "--seed", "3",
    ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        assert process.stderr is not None
        port = None
        deadline = time.monotonic() + STARTUP_WAIT_S
        while port is None and time.monotonic() < deadline:
            line = await asyncio.wait_for(process.stderr.readline(), timeout=STARTUP_WAIT_S)
            found = re.search(rb"websocket ws://127\.0\.0\.1:(\d+)/stream", line)
            port = int(found.group(1)) if found else None
            assert process.returncode is None and line, "serve exited early"
        assert port is not None
        base = f"127.0.0.1:{port}"
        # the spec comes from the server's exchangeInfo, as a live feed gets it from Binance
        config = FeedConfig("usdm", "ETHUSDT", ws_urls=(f"ws://{base}",), rest_urls=(f"http://{base}",))
        feed = await open_live_feed(config)
        assert feed.config.spec is not None and feed.config.spec.source == "exchange_info"
        assert feed.config.spec.origin == f"http://{base}/fapi/v1/exchangeInfo"
        assert (str(feed.config.spec.tick_size), str(feed.config.spec.lot_size)) == ("0.01", "0.001")
        stop = asyncio.Event()
        task = asyncio.create_task(feed.run(stop))
        await asyncio.sleep(FEED_RUN_S)
        stop.set()
        await asyncio.wait_for(task, timeout=5.0)
        process.send_signal(signal.SIGINT)
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=10.0)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()[-2000:]
    report = orjson.loads(stdout)
    assert report["ws_url"] == f"ws://{base}" and report["position"] > 0
    assert report["faults_injected"]["dropped"] > 0
    summary = feed.summary()
    snapshots, checked = summary["snapshots"], summary["book_ticker_checked"]
    assert isinstance(snapshots, int) and isinstance(checked, int)
    assert snapshots >= 1 and checked >= 1
    assert summary["book_ticker_mismatched"] == 0
