"""The engine's sim recording across hours: every hourly segment starts with a depth snapshot, so the
pipeline's ingest reads each hour on its own, and the book it rebuilds from an hour's file alone equals the
venue's published image at the end of that hour."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import orjson

from flashmm_engine.engine.recording import EngineRecorder
from flashmm_engine.marketdata.book import OrderBook
from flashmm_engine.marketdata.capture import iter_lines, split_line
from flashmm_engine.pipeline.segments import describe_segment
from flashmm_engine.types import NS_PER_S, MarketSpec
from flashmm_engine.venues.captures import normalize_capture, open_capture
from flashmm_engine.venues.sim.source import SimCaptureSource

MARKET = "SIM:ETHUSD"
SPEC = MarketSpec(MARKET, Decimal("0.01"), Decimal("0.001"), "ETH", "USD")
HOUR_NS = 3600 * NS_PER_S
START_NS = 1_780_000_000 * NS_PER_S // HOUR_NS * HOUR_NS + HOUR_NS - 30 * NS_PER_S  # 30 s before an hour
STEP_NS = NS_PER_S // 5
FRAMES = 400  # 80 s: the hour changes 30 s in
LEVELS = 5


def _image(rng: random.Random, mid: int) -> tuple[dict[int, int], dict[int, int]]:
    bids = {mid - 1 - i: rng.randint(1, 50) for i in range(LEVELS)}
    asks = {mid + 1 + i: rng.randint(1, 50) for i in range(LEVELS)}
    return bids, asks


def _changes(old: dict[int, int], new: dict[int, int], side: int) -> list[list[int]]:
    gone = [[side, p, 0] for p in old if p not in new]
    return gone + [[side, p, s] for p, s in new.items() if old.get(p) != s]


def _frames(seed: int) -> tuple[list[tuple[int, bytes]], dict[int, tuple[dict[int, int], dict[int, int]]]]:
    """What the venue publishes: a subscribe snapshot, then depth diffs between images, tops and trades;
    and the image after each frame's time, by hour."""
    rng = random.Random(seed)
    mid, seq = 200_000, 7
    bids, asks = _image(rng, mid)
    snapshot = {"type": "snapshot", "market": MARKET, "seq": seq, "ts": START_NS}
    snapshot |= {"bids": sorted(bids.items(), reverse=True), "asks": sorted(asks.items())}
    frames = [(START_NS, snapshot)]
    last_image: dict[int, tuple[dict[int, int], dict[int, int]]] = {}
    for i in range(1, FRAMES):
        ts = START_NS + i * STEP_NS
        mid += rng.choice((-1, 0, 1))
        new_bids, new_asks = _image(rng, mid)
        changes = _changes(bids, new_bids, 1) + _changes(asks, new_asks, -1)
        bids, asks, seq = new_bids, new_asks, seq + 1
        frames.append((ts, {"type": "depth", "market": MARKET, "seq": seq, "ts": ts, "changes": changes}))
        frames.append((ts, {"type": "top", "market": MARKET, "seq": seq, "ts": ts,
                            "bid": [mid - 1, bids[mid - 1]], "ask": [mid + 1, asks[mid + 1]]}))  # fmt: skip
        if i % 7 == 0:
            trade = {"type": "trade", "market": MARKET, "ts": ts, "price": mid + 1, "size": 2, "side": 1,
                     "trade_id": i}  # fmt: skip
            frames.append((ts, trade))
        last_image[ts // HOUR_NS] = (dict(bids), dict(asks))
    return [(ts, orjson.dumps(msg)) for ts, msg in frames], last_image


def test_each_hour_of_a_sim_recording_starts_with_a_snapshot_and_ingests_alone(tmp_path: Path) -> None:
    frames, last_image = _frames(seed=13)
    recorder = EngineRecorder(tmp_path, "sim")
    for ts, raw in frames:
        recorder.tap(ts, MARKET, raw, SPEC)
    recorder.close()
    segments = sorted((tmp_path / "sim").glob("*.raw.gz"))
    assert len(segments) == 2, segments
    for path in segments:
        first = orjson.loads(split_line(next(iter_lines(path)))[1])
        assert first["type"] == "snapshot", f"{path.name} starts with {first['type']}"
        source, info = open_capture(path)
        assert isinstance(source, SimCaptureSource)
        tables, stats = normalize_capture(path)
        assert stats.snapshots == 1 and stats.resyncs == 0 and stats.malformed == 0
        book = OrderBook()
        source.iterate(info, _NullSink(), book=book)
        hour = describe_segment(path).hour.timestamp() * NS_PER_S // HOUR_NS
        assert (book.bids, book.asks) == last_image[int(hour)], f"book at the end of {path.name}"
        assert len(tables.trade) > 0 and len(tables.book_delta) > 0
    second = orjson.loads(split_line(next(iter_lines(segments[1])))[1])
    assert second["origin"] == "recorder"
    received = sum(1 for ts, _ in frames)
    lines = sum(1 for path in segments for _ in iter_lines(path))
    assert lines == received + 1, "every received frame, plus the second hour's opening snapshot"


class _NullSink:
    def on_snapshot(self, ts_local: int, snapshot: object) -> None: ...

    def on_diff(self, ts_local: int, diff: object) -> None: ...

    def on_book_ticker(self, ticker: object) -> None: ...

    def on_trade(self, trade: object) -> None: ...
