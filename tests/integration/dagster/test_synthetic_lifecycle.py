"""The whole lifecycle on synthetic sim data (tests/synthetic_sim.py: the sim venue's seeded synthetic market
recorded by the engine's recorder, two hourly segments), driven the way the daemon drives it, on one
ephemeral instance:

1. the lifecycle job run before any data fails, and the run-failure sensor records it;
2. the new-segment sensor asks for both hours; each request runs the ingest job (raw segments, events,
   features and their checks), and the hourly schedule asks for the sim market's hour too;
3. the first-start sensor asks for the lifecycle; the daily-retrain schedule's job trains, validates (gate
   relaxed to quote uptime: a plumbing-sized candidate), exports and promotes; every check of the run
   passes; the publish sensor announces it on Redis and the first-start sensor stands down;
4. the daily-report schedule's partition is reported from ledger fills on the synthetic trades."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
import redis

from flashmm_dagster.bootstrap import bootstrap_lifecycle
from flashmm_dagster.definitions import ASSETS, defs
from flashmm_dagster.jobs import ingest_job, lifecycle_job
from flashmm_dagster.partitions import split_key
from flashmm_dagster.resources import FlashmmResource
from flashmm_dagster.schedules import daily_report_schedule, hourly_ingest
from flashmm_dagster.sensors import new_raw_segment, publish_production_model, record_run_failure
from flashmm_engine.pipeline.promotion import production_version
from flashmm_engine.pipeline.store import concat_tables, read_events
from flashmm_engine.reports.demo import record_demo_fills
from tests.synthetic_sim import DAY, HOURS, MARKET, SEED, record_synthetic_session

TIMEOUT_S = 1500
"""One training and one validation backtest on a busy 2-core machine: a hang guard, not a speed test."""
STREAM = "flashmm:models"
EVERY_NTH_TRADE = 25
BOOTSTRAP_SAMPLES = 1_000
"""Feature samples the first-start sensor waits for (the synthetic session holds a few thousand)."""
LIFECYCLE = {"training_set", "candidate_model", "model_validation", "exported_model", "production_model"}
HOURLY_CHECKS = {
    "market_events": {"time_monotonic", "positive_sizes", "no_crossed_book", "sequence_continuity",
                      "no_long_gap", "not_empty"},
    "features": {"has_warm_samples", "finite_after_warmup", "values_in_range"},
}  # fmt: skip
LIFECYCLE_CHECKS = {
    "training_set": {"enough_samples", "class_balance"},
    "model_validation": {"beats_comparator", "drawdown_within_limit", "latency_within_budget"},
    "exported_model": {"torchscript_parity", "inference_latency"},
}


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, bool]]:
    out: dict[str, dict[str, bool]] = {}
    for event in result.get_asset_check_evaluations():
        out.setdefault(event.asset_key.to_user_string(), {})[event.check_name] = event.passed
    return out


def _names(checks: dict[str, dict[str, bool]]) -> dict[str, set[str]]:
    return {asset: set(by) for asset, by in checks.items()}


@pytest.mark.slow
@pytest.mark.timeout(TIMEOUT_S)
@pytest.mark.covers(
    "asset:raw_segments", "asset:market_events", "asset:features", "asset:training_set",
    "asset:candidate_model", "asset:model_validation", "asset:exported_model", "asset:production_model",
    "asset:daily_report",
    *(f"check:{a}.{c}" for a, cs in {**HOURLY_CHECKS, **LIFECYCLE_CHECKS}.items() for c in cs),
    "sensor:new_raw_segment", "sensor:publish_production_model", "sensor:record_run_failure",
    "sensor:bootstrap_lifecycle",
    "schedule:hourly_ingest", "schedule:daily_retrain", "schedule:daily_report_schedule",
    data="synthetic",
)  # fmt: skip
def test_lifecycle_on_synthetic_sim_data(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = tmp_path / "raw"
    session = record_synthetic_session(raw, seed=SEED)
    assert len(session.segments) == 2 and session.trades > 100
    root = str(tmp_path / "pipeline")
    monkeypatch.setenv("FLASHMM_PIPELINE__ROOT", root)  # where the failure sensor writes its alerts
    home = str(tmp_path / "home")
    resource = FlashmmResource(home=home, pipeline_root=root, drop_dirs=[], redis_url=redis_url)
    monkeypatch.setenv("FLASHMM_RECORDER__DIRECTORY", str(raw))
    instance = dg.DagsterInstance.ephemeral()
    resources = {"flashmm": resource}
    assert defs.resolve_schedule_def("daily_retrain").job_name == lifecycle_job.name
    retrain_job = defs.resolve_job_def(lifecycle_job.name)

    too_early = retrain_job.execute_in_process(instance=instance, resources=resources, raise_on_error=False)
    assert not too_early.success
    failure = next(e for e in too_early.all_events if e.event_type_value == "PIPELINE_FAILURE")
    record_run_failure(
        dg.build_run_status_sensor_context(
            sensor_name="record_run_failure", dagster_instance=instance,
            dagster_run=too_early.dagster_run, dagster_event=failure,
        ).for_run_failure()
    )  # fmt: skip
    (alert,) = [json.loads(line) for line in resource.layout().alerts.read_text().splitlines()]
    assert alert["run_id"] == too_early.run_id and alert["steps_failed"]

    tick = new_raw_segment(dg.build_sensor_context(instance=instance, resources=resources))
    assert sorted(split_key(r.partition_key) for r in tick.run_requests) == [(h, MARKET) for h in HOURS]
    hourly = dg.build_schedule_context(scheduled_execution_time=datetime(2024, 8, 9, 12, 5, tzinfo=UTC))
    assert (HOURS[1], MARKET) in [split_key(r.partition_key) for r in hourly_ingest(hourly)]
    ingest = defs.resolve_job_def(ingest_job.name)
    for request in tick.run_requests:
        run = ingest.execute_in_process(
            instance=instance, resources=resources, partition_key=request.partition_key, tags=request.tags
        )
        assert run.success
        checks = _checks(run)
        assert _names(checks) == HOURLY_CHECKS
        assert all(all(by.values()) for by in checks.values()), checks

    monkeypatch.setenv("FLASHMM_PIPELINE__GATE_METRICS", '["quote_uptime"]')
    monkeypatch.setenv("FLASHMM_PIPELINE__GATE_MARGIN", "-1.0")
    monkeypatch.setenv("FLASHMM_PIPELINE__BOOTSTRAP_MIN_SAMPLES", str(BOOTSTRAP_SAMPLES))
    first_start = bootstrap_lifecycle(dg.build_sensor_context(instance=instance, resources=resources))
    (bootstrap,) = first_start.run_requests
    assert int(bootstrap.tags["flashmm/bootstrap"]) >= BOOTSTRAP_SAMPLES
    trained = retrain_job.execute_in_process(instance=instance, resources=resources, tags=bootstrap.tags)
    materialized = {e.asset_key.to_user_string() for e in trained.get_asset_materialization_events()}
    assert materialized == LIFECYCLE
    checks = _checks(trained)
    assert _names(checks) == LIFECYCLE_CHECKS
    assert all(all(by.values()) for by in checks.values()), checks
    promoted = production_version(resource.database(), "flashmm")
    assert promoted is not None and promoted.stage == "production"
    after = bootstrap_lifecycle(dg.build_sensor_context(instance=instance, resources=resources))
    assert not after.run_requests and after.skip_reason is not None
    assert "is in production" in (after.skip_reason.skip_message or "")
    sensor = dg.build_sensor_context(instance=instance, resources=resources)
    published = publish_production_model.evaluate_tick(sensor)
    assert f"published flashmm/{promoted.version}" in (published.skip_message or "")
    (entry,) = redis.Redis.from_url(redis_url).xrange(STREAM)
    assert entry[1][b"version"].decode() == promoted.version

    tables = concat_tables([t for h in HOURS if (t := read_events(resource.layout().events(MARKET, h)))])
    fills = record_demo_fills(resource.database(), tables, EVERY_NTH_TRADE, fee_per_fill=3)
    request = daily_report_schedule(
        dg.build_schedule_context(scheduled_execution_time=datetime(2024, 8, 10, 1, 0, tzinfo=UTC))
    )
    assert isinstance(request, dg.RunRequest) and request.partition_key == DAY
    report = dg.materialize(ASSETS, instance=instance, resources=resources, selection=["daily_report"],
                            partition_key=request.partition_key)  # fmt: skip
    (event,) = report.get_asset_materialization_events()
    meta = event.materialization.metadata
    assert meta["fills"].value == fills > 5
    assert "SIM:ETHUSD" in meta["drift"].value
    assert len([k for k in meta if k.startswith("plot_")]) >= 4
