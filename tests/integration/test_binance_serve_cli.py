"""`flashmm replay serve` as a real process: the connector syncs against it; SIGINT prints the summary."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import orjson
import pytest

from flashmm_engine.venues.binance.feed import FeedConfig, open_live_feed

STARTUP_WAIT_S = 180.0
"""A guard only: on a loaded machine the interpreter's imports alone can take tens of seconds."""
CHECKS_WAIT_S = 60.0
"""Only a guard: the test waits for the connector to have checked the book, not for a time span."""
POLL_S = 0.05


@pytest.mark.slow
async def test_serve_command_feeds_the_connector(fixtures_dir: Path, tmp_path: Path) -> None:
    capture = fixtures_dir / "binance" / "usdm_ethusdt_slice.raw.gz"
    command = [
        sys.executable, "-c", "from flashmm_engine.cli import main; main()",
        "replay", "serve", str(capture), "--speed", "0", "--drop", "0.01", "--seed", "3",
    ]  # fmt: skip
    # stderr goes to a file: an unread pipe fills up with the server's logs and stalls the server
    log_path = tmp_path / "serve.log"
    log_file = log_path.open("wb")
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE, stderr=log_file)
    try:
        assert process.stdout is not None
        ready_line = await asyncio.wait_for(process.stdout.readline(), timeout=STARTUP_WAIT_S)
        assert ready_line, "serve exited before its ready line"
        ready = orjson.loads(ready_line)
        assert ready["market"] == "usdm" and ready["symbol"] == "ETHUSDT"
        assert "ethusdt@depth@0ms" in ready["streams"]
        ws_url, rest_url = ready["ws_url"], ready["rest_url"]
        # the spec comes from the server's exchangeInfo, as a live feed gets it from Binance
        # a busy machine may starve the server for seconds: that must not read as a stale feed
        config = FeedConfig(
            "usdm", "ETHUSDT", ws_urls=(ws_url,), rest_urls=(rest_url,), stale_after_s=CHECKS_WAIT_S
        )
        feed = await open_live_feed(config)
        assert feed.config.spec is not None and feed.config.spec.source == "exchange_info"
        assert feed.config.spec.origin == f"{rest_url}/fapi/v1/exchangeInfo"
        assert (str(feed.config.spec.tick_size), str(feed.config.spec.lot_size)) == ("0.01", "0.001")
        stop = asyncio.Event()
        task = asyncio.create_task(feed.run(stop))
        async with asyncio.timeout(CHECKS_WAIT_S):
            while not feed.summary()["book_ticker_checked"]:  # noqa: ASYNC110 - polls a counter, no event
                await asyncio.sleep(POLL_S)
        stop.set()
        await asyncio.wait_for(task, timeout=5.0)
        process.send_signal(signal.SIGINT)
        stdout, _ = await asyncio.wait_for(process.communicate(), timeout=10.0)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        log_file.close()
    assert process.returncode == 0, log_path.read_text()[-2000:]
    report = orjson.loads(stdout)
    assert report["ws_url"] == ws_url and report["position"] > 0 and report["sent"] > 0
    assert report["faults_injected"]["dropped"] > 0
    summary = feed.summary()
    snapshots, checked = summary["snapshots"], summary["book_ticker_checked"]
    assert isinstance(snapshots, int) and isinstance(checked, int)
    assert snapshots >= 1 and checked >= 1
    assert summary["book_ticker_mismatched"] == 0
