"""A recorder that cannot write any more (here: its next hourly segment cannot be created) degrades
recording only: the feed keeps delivering every message, and each failed write is counted."""

from __future__ import annotations

import asyncio
import gzip
import time
from datetime import UTC, datetime
from pathlib import Path

from flashmm_engine.marketdata.recorder import SECONDS_PER_HOUR, RawRecorder
from flashmm_engine.types import NS_PER_S, MarketEvent
from flashmm_engine.venues.binance.events import MarketEventSink
from flashmm_engine.venues.binance.feed import BinanceFeed, FeedConfig
from flashmm_engine.venues.binance.replay_server import ReplayServer, load_replay_lines

FAIL_AFTER = 40
"""Messages recorded before the recorder's directory refuses the next segment."""
RUN_TIMEOUT_S = 60.0
"""Only a guard: the test waits until every streamed message has reached the feed."""
POLL_S = 0.05


class JumpingClock:
    """Real time for the first FAIL_AFTER readings, then one hour later: the recorder must rotate."""

    def __init__(self) -> None:
        self.readings = 0
        self._start = time.time_ns()

    def now_ns(self) -> int:
        self.readings += 1
        jump = SECONDS_PER_HOUR * NS_PER_S if self.readings > FAIL_AFTER else 0
        return self._start + jump + self.readings


def segment_path(directory: Path, prefix: str, ts_ns: int) -> Path:
    hour = ts_ns // (NS_PER_S * SECONDS_PER_HOUR)
    stamp = datetime.fromtimestamp(hour * SECONDS_PER_HOUR, tz=UTC).strftime("%Y%m%dT%H")
    return directory / f"{prefix}-{stamp}.raw.gz"


async def test_an_unwritable_recorder_is_counted_and_the_feed_keeps_delivering(
    fixtures_dir: Path, tmp_path: Path
) -> None:
    lines = load_replay_lines(fixtures_dir / "binance" / "usdm_ethusdt_slice.raw.gz")
    streamed = sum(1 for line in lines if line.stream is not None)
    # speed 0: the replay waits for the connector, so every message reaches it however busy the machine is
    server = ReplayServer(lines, "usdm", speed=0.0)
    await server.start()
    clock = JumpingClock()
    recorder = RawRecorder(tmp_path, "usdm")
    # the next hour's segment path is taken by a directory: creating the segment fails with an OSError
    segment_path(tmp_path, "usdm", clock._start + SECONDS_PER_HOUR * NS_PER_S).mkdir()
    events: list[MarketEvent] = []
    config = FeedConfig(
        market="usdm",
        symbol=server.symbol,
        spec=server.instrument,
        ws_urls=(server.ws_url,),
        rest_urls=(server.base_url,),
        stale_after_s=RUN_TIMEOUT_S,  # a slow machine must not read as a stale feed and reconnect
    )
    feed = BinanceFeed(config, MarketEventSink("binance-usdm:ETHUSDT", events.append), recorder, clock)
    stop = asyncio.Event()
    task = asyncio.create_task(feed.run(stop))
    try:
        async with asyncio.timeout(RUN_TIMEOUT_S):
            await server.finished.wait()
            while feed.summary()["messages"] < streamed + feed.counts.snapshots:  # noqa: ASYNC110
                await asyncio.sleep(POLL_S)  # polls a counter: the feed has no event for it
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5.0)
        await server.stop()
        recorder.close()
    summary = feed.summary()
    assert summary["messages"] == streamed + summary["snapshots"]  # every message still processed
    assert not task.exception() and not feed._tasks.failures
    assert summary["record_failures"] == summary["messages"] - FAIL_AFTER > 0
    assert recorder.lines == FAIL_AFTER and len(events) > 0
    with gzip.open(recorder.segments[0]) as f:
        assert len(f.read().splitlines()) == FAIL_AFTER
