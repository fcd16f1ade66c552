"""Real fixture captures, normalized once per session through the market-data pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from flashmm_engine.marketdata.normalize import NormalizedTables, iter_events
from flashmm_engine.types import MarketEvent
from flashmm_engine.venues.captures import load_capture


@pytest.fixture(scope="session")
def spot_tables(fixtures_dir: Path) -> NormalizedTables:
    return load_capture(fixtures_dir / "binance" / "spot_ethusdt_slice.raw.gz", "spot")


@pytest.fixture(scope="session")
def usdm_tables(fixtures_dir: Path) -> NormalizedTables:
    return load_capture(fixtures_dir / "binance" / "usdm_ethusdt_slice.raw.gz", "usdm")


@pytest.fixture(scope="session")
def spot_events(spot_tables: NormalizedTables) -> list[MarketEvent]:
    return list(iter_events(spot_tables))


@pytest.fixture(scope="session")
def usdm_events(usdm_tables: NormalizedTables) -> list[MarketEvent]:
    return list(iter_events(usdm_tables))
