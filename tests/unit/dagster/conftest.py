"""Fixture data for the Dagster tests: the small Binance slices, normalized once per session."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from flashmm_engine.marketdata.normalize import NormalizedTables
from flashmm_engine.pipeline.store import write_events

SPOT_SLICE = "spot_ethusdt_slice.raw.gz"
SPOT_MARKET = "binance-spot-ethusdt"
SPOT_HOUR = "2024-08-08-23:00"


@pytest.fixture(scope="session")
def spot_tables(fixtures_dir: Path) -> NormalizedTables:
    from flashmm_engine.venues.captures import load_capture

    return load_capture(fixtures_dir / "binance" / SPOT_SLICE)


@pytest.fixture
def events_dir(tmp_path: Path, spot_tables: NormalizedTables) -> Iterator[Path]:
    out = tmp_path / "events"
    write_events(spot_tables, out)
    yield out
