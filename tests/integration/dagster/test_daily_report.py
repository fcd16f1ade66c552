"""daily_report materialized on a ledger day (fills through the real ledger, on the fixture's recorded
trades) with the day's events stored: attribution sums to the total, the drift table compares with a
backtest of the same data, four plots are in the metadata and the HTML."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import orjson
import pytest

from flashmm_dagster.assets.reports import daily_report
from flashmm_dagster.resources import FlashmmResource
from flashmm_dagster.schedules import daily_report_schedule
from flashmm_engine.pipeline.store import write_events
from flashmm_engine.reports.demo import record_demo_fills
from flashmm_engine.venues.captures import load_capture

EVERY_NTH_TRADE = 10


@pytest.mark.covers("asset:daily_report", "schedule:daily_report_schedule", data="fixture")
def test_daily_report_from_ledger_and_events(tmp_path: Path, fixtures_dir: Path) -> None:
    resource = FlashmmResource(home=str(tmp_path / "home"))
    tables = load_capture(fixtures_dir / "binance" / "spot_ethusdt_slice.raw.gz")
    write_events(tables, resource.layout().events("binance-spot-ethusdt", "2024-08-08-23:00"))
    fills = record_demo_fills(resource.database(), tables, EVERY_NTH_TRADE, fee_per_fill=7)
    assert fills > 5

    tick = dg.build_schedule_context(scheduled_execution_time=datetime(2024, 8, 9, 1, 0, tzinfo=UTC))
    request = daily_report_schedule(tick)
    assert isinstance(request, dg.RunRequest) and request.partition_key == "2024-08-08"
    key = request.partition_key
    result = dg.materialize([daily_report], resources={"flashmm": resource}, partition_key=key)
    assert result.success
    (event,) = result.get_asset_materialization_events()
    meta = event.materialization.metadata
    assert meta["fills"].value == fills
    plots = [k for k in meta if k.startswith("plot_")]
    assert len(plots) >= 4 and all("data:image/png;base64," in meta[k].value for k in plots)
    assert "markout_1s_bps" in meta["drift"].value and "binance-spot:ETHUSDT" in meta["drift"].value

    html = Path(meta["html"].value).read_text()
    assert html.count("<img ") >= 4 and "Live vs backtest drift" in html
    data = orjson.loads(Path(meta["json"].value).read_bytes())
    day = data["markets"]["binance-spot:ETHUSDT"]
    parts = day["attribution_units"]
    assert (
        parts["spread_capture"] + parts["inventory"] + parts["adverse_selection"] + parts["fees"]
        == parts["total"]
    )
    assert parts["fees"] == -7 * fills
    drift = {row[0]: row for row in day["drift"]}
    assert drift["fills"][1] == fills and isinstance(drift["fills"][2], int)
    # the SQL store has the shadow table (migration 0003) but no challenger ran: no moves to score
    assert data["shadow"] == {
        "production": {"moves": 0, "accuracy": None},
        "shadow": {"moves": 0, "accuracy": None},
    }
    assert data["shadow_note"] is None
