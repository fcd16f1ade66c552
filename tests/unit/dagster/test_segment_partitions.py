"""A segment's partition is the key every later stage derives from the same instrument: validation picks a
market's frames by it and the daily report finds a ledger market's events by it, for the Binance captures
and for what the engine records from the sim venue (whose symbol `SIM:ETHUSD` holds a colon), which the
new-segment sensor finds in the recorder's per-venue folder."""

from pathlib import Path

import dagster as dg
import pytest

from flashmm_dagster.partitions import split_key
from flashmm_dagster.resources import FlashmmResource
from flashmm_dagster.sensors import new_raw_segment
from flashmm_engine.config.pipeline import DEFAULT_MARKETS
from flashmm_engine.pipeline.ingest import features_partition, ingest_partition
from flashmm_engine.pipeline.segments import describe_segment, instrument_key
from flashmm_engine.venues.captures import load_capture
from tests.synthetic_sim import MARKET, record_synthetic_session

from .conftest import SPOT_MARKET, SPOT_SLICE

SAMPLE_NS = 100_000_000


def test_sim_recording_partition_is_the_frames_and_ledgers_key(tmp_path: Path) -> None:
    session = record_synthetic_session(tmp_path / "raw", seed=3, minutes=0.5)
    (path,) = session.segments
    segment = describe_segment(path)
    assert segment.market == MARKET and MARKET in DEFAULT_MARKETS
    ingest_partition([segment], segment.market, tmp_path / "events")
    frame = features_partition(tmp_path / "events", tmp_path / "features", segment.market, SAMPLE_NS)
    assert frame.market == "SIM:ETHUSD"
    assert instrument_key(frame.market) == segment.market


def test_engine_recordings_under_the_venue_folder_trigger_ingestion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = tmp_path / "raw"
    monkeypatch.setenv("FLASHMM_RECORDER__DIRECTORY", str(raw))
    session = record_synthetic_session(raw, seed=5, minutes=0.5)
    assert [p.parent for p in session.segments] == [raw / "sim"]
    resource = FlashmmResource(pipeline_root=str(tmp_path / "pipeline"), drop_dirs=[])
    context = dg.build_sensor_context(
        instance=dg.DagsterInstance.ephemeral(), resources={"flashmm": resource}
    )
    tick = new_raw_segment(context)
    assert [split_key(r.partition_key)[1] for r in tick.run_requests] == [MARKET]


def test_binance_capture_partition_is_its_market_ids_key(fixtures_dir: Path) -> None:
    path = fixtures_dir / "binance" / SPOT_SLICE
    segment = describe_segment(path)
    assert segment.market == SPOT_MARKET
    assert instrument_key(load_capture(path).spec.symbol) == SPOT_MARKET
