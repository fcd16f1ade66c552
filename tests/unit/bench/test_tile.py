"""A tiled capture is a valid capture: the sync rules hold across every join (no resync, one snapshot), the
rebuilt book matches the exchange's bookTicker as well as the original does, and times, update ids and
trade ids move on by whole copies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flashmm_engine.bench.tile import Numbers, TileError, Tiler, segments
from flashmm_engine.marketdata.capture import read_capture
from flashmm_engine.venues.binance.source import depth_stream
from flashmm_engine.venues.binance.verify import verify_capture
from flashmm_engine.venues.captures import load_capture, normalize_capture, open_capture

COPIES = 3


@pytest.mark.parametrize("name", ["spot_ethusdt_slice.raw.gz", "usdm_ethusdt_slice.raw.gz"])
def test_tiled_capture_keeps_every_sync_rule(fixtures_dir: Path, tmp_path: Path, name: str) -> None:
    original = fixtures_dir / "binance" / name
    source, info = open_capture(original)
    tiler = Tiler.of(read_capture(original), load_capture(original), info.market, depth_stream(info) or "")
    tiled = tmp_path / name.replace(".gz", "")
    tiled.write_bytes(b"".join(tiler.copy(k) for k in range(COPIES)))
    base = verify_capture(source, info)
    _, tiled_info = open_capture(tiled)
    checked = verify_capture(source, tiled_info)
    assert checked["resyncs"] == base["resyncs"] == 0
    assert checked["malformed"] == base["malformed"]
    assert checked["messages"] > COPIES * base["messages"] * 0.9  # one snapshot; each join one bridge diff
    assert checked["book_ticker_checked"] > COPIES * base["book_ticker_checked"] * 0.9
    assert checked["match_rate"] == base["match_rate"] == 1.0
    tables, stats = normalize_capture(tiled)
    assert stats.snapshots == 1
    stamps = tables.trade["ts_local"].to_numpy()
    ids = tables.trade["trade_id"].to_numpy()
    assert (stamps[1:] > stamps[:-1]).any() and (stamps[1:] >= stamps[:-1]).all()
    assert (ids[1:] > ids[:-1]).all()  # trade ids never repeat across copies
    span = stamps.max() - stamps.min()
    assert span >= (COPIES - 1) * tiler.copy_ns


def test_segments_cover_the_hours_in_whole_copies(fixtures_dir: Path) -> None:
    path = fixtures_dir / "binance" / "spot_ethusdt_slice.raw.gz"
    _, info = open_capture(path)
    tiler = Tiler.of(read_capture(path), load_capture(path), info.market, depth_stream(info) or "")
    parts = list(segments(tiler, hours=0.05, segment_s=60))
    flat = [k for part in parts for k in part]
    assert flat == list(range(len(flat)))
    assert len(flat) * tiler.copy_ns >= 0.05 * 3600e9 > (len(flat) - 1) * tiler.copy_ns
    assert all(len(part) == len(parts[0]) for part in parts[:-1])


def test_a_number_that_would_widen_is_refused() -> None:
    line = b'1723161254036052868 {"stream":"x@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,'
    line += b'"s":"X","U":90,"u":99,"b":[],"a":[]}}\n'
    numbers = Numbers.of(line)
    shifts = np.array([0, 10, 0, 0], dtype=np.int64)
    assert numbers.shifted(shifts, 0) == line
    with pytest.raises(TileError):
        numbers.shifted(shifts, 1)  # U 90 + 10 = 100 has three digits
