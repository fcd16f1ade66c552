"""Schedules and the segment and failure sensors, evaluated with Dagster's own test contexts."""

import json
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from flashmm_dagster.definitions import defs
from flashmm_dagster.jobs import ingest_job
from flashmm_dagster.partitions import split_key
from flashmm_dagster.resources import FlashmmResource
from flashmm_dagster.schedules import daily_report_schedule, hourly_ingest
from flashmm_dagster.sensors import new_raw_segment, record_run_failure
from flashmm_engine.pipeline.layout import Layout

from .conftest import SPOT_HOUR, SPOT_MARKET, SPOT_SLICE


@pytest.mark.covers("schedule:hourly_ingest", data="fixture")
def test_hourly_ingest_requests_the_hour_that_ended_for_every_market(
    tmp_path: Path, fixtures_dir: Path
) -> None:
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2024, 8, 9, 0, 5, tzinfo=UTC))
    requests = list(hourly_ingest(context))
    assert sorted(split_key(r.partition_key) for r in requests) == [
        ("2024-08-08-23:00", "binance-spot-ethusdt"),
        ("2024-08-08-23:00", "binance-usdm-ethusdt"),
        ("2024-08-08-23:00", "sim-ethusd"),
    ]
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(fixtures_dir / "binance" / SPOT_SLICE, drop / SPOT_SLICE)
    resource = FlashmmResource(pipeline_root=str(tmp_path / "pipeline"), drop_dirs=[str(drop)])
    (spot,) = [r for r in requests if split_key(r.partition_key)[1] == SPOT_MARKET]
    run = defs.resolve_job_def(ingest_job.name).execute_in_process(
        resources={"flashmm": resource}, partition_key=spot.partition_key
    )
    assert run.success
    (features,) = [e for e in run.get_asset_materialization_events() if e.asset_key.path == ["features"]]
    assert features.materialization.metadata["warm_samples"].value > 100


def test_daily_schedules_target_the_previous_day_and_the_lifecycle_job() -> None:
    context = dg.build_schedule_context(scheduled_execution_time=datetime(2024, 8, 9, 1, 0, tzinfo=UTC))
    request = daily_report_schedule(context)
    assert isinstance(request, dg.RunRequest) and request.partition_key == "2024-08-08"
    retrain = defs.get_schedule_def("daily_retrain")
    assert retrain.cron_schedule == "30 0 * * *" and retrain.execution_timezone == "UTC"
    assert retrain.job_name == "retrain_validate_promote"
    live = defs.get_schedule_def("live_trading_every_minute")
    assert live.cron_schedule == "* * * * *" and live.job_name == "observe_live_trading"


@pytest.mark.covers("sensor:new_raw_segment", data="fixture")
def test_new_segment_triggers_its_partition_once(
    tmp_path: Path, fixtures_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # only this test's folders: engines earlier in the session record into the shared test home
    monkeypatch.setenv("FLASHMM_RECORDER__DIRECTORY", str(tmp_path / "recorder"))
    drop = tmp_path / "drop"
    drop.mkdir()
    resource = FlashmmResource(pipeline_root=str(tmp_path / "pipeline"), drop_dirs=[str(drop)])
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(instance=instance, resources={"flashmm": resource})
    assert new_raw_segment(context).run_requests == []
    shutil.copy(fixtures_dir / "binance" / SPOT_SLICE, drop / SPOT_SLICE)
    (drop / "notes.raw.gz").write_bytes(b"not a capture")
    first = new_raw_segment(context)
    assert [split_key(r.partition_key) for r in first.run_requests] == [(SPOT_HOUR, SPOT_MARKET)]
    assert first.run_requests[0].tags["flashmm/segment"] == str(drop / SPOT_SLICE)
    again = new_raw_segment(
        dg.build_sensor_context(instance=instance, cursor=first.cursor, resources={"flashmm": resource})
    )
    assert again.run_requests == []
    assert str(drop / "notes.raw.gz") not in json.loads(again.cursor or "{}")


@dg.op
def broken() -> None:
    raise RuntimeError("boom: the data went away")


@dg.job
def failing_job() -> None:
    broken()


def test_run_failure_sensor_records_and_logs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FLASHMM_PIPELINE__ROOT", str(tmp_path / "pipeline"))
    instance = dg.DagsterInstance.ephemeral()
    result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
    context = dg.build_run_status_sensor_context(
        sensor_name="record_run_failure", dagster_instance=instance, dagster_run=result.dagster_run,
        dagster_event=failure,
    ).for_run_failure()  # fmt: skip
    record_run_failure(context)
    rows = [json.loads(line) for line in Layout(tmp_path / "pipeline").alerts.read_text().splitlines()]
    assert len(rows) == 1
    assert rows[0]["run_id"] == result.run_id and rows[0]["job"] == "failing_job"
    assert rows[0]["steps_failed"] == ["broken"]


def test_live_observation_waits_for_the_previous_one() -> None:
    from flashmm_dagster.schedules import live_trading_every_minute

    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance)
        assert isinstance(live_trading_every_minute(context), dg.RunRequest)
        run = dg.DagsterRun(
            job_name="observe_live_trading", run_id=str(uuid.uuid4()), status=dg.DagsterRunStatus.STARTED
        )
        instance.add_run(run)
        skipped = live_trading_every_minute(dg.build_schedule_context(instance=instance))
    assert isinstance(skipped, dg.SkipReason) and "still queued or running" in str(skipped.skip_message)
