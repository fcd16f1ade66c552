"""The whole graph on the spot fixture slice, materialized on one ephemeral Dagster instance, both ways:

1. ingest -> features -> training set -> candidate -> validation -> export -> promotion (with a gate that
   lets a plumbing-sized candidate through), and the publish sensor appends it to `flashmm:models` on the
   real Redis;
2. a candidate trained on shuffled labels, gated on log loss against that production model: the blocking
   check fails with the failing values in its metadata, export and promotion do not run, production is
   unchanged.
"""

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest
import redis

from flashmm_dagster.bootstrap import bootstrap_lifecycle
from flashmm_dagster.definitions import ASSETS, defs
from flashmm_dagster.jobs import lifecycle_job
from flashmm_dagster.partitions import partition_key
from flashmm_dagster.resources import FlashmmResource
from flashmm_dagster.sensors import publish_production_model, record_run_failure
from flashmm_engine.pipeline.promotion import production_version

MODEL_STREAM = "flashmm:models"

SPOT_SLICE = "spot_ethusdt_slice.raw.gz"
HOURLY = ["raw_segments", "market_events", "features"]
LIFECYCLE = ["training_set", "candidate_model", "model_validation", "exported_model", "production_model"]
LIFECYCLE_CHECKS = {
    "enough_samples", "class_balance", "beats_comparator", "drawdown_within_limit", "latency_within_budget",
    "torchscript_parity", "inference_latency",
}  # fmt: skip


def _lifecycle(
    instance: dg.DagsterInstance, resource: FlashmmResource, shuffle: int | None
) -> dg.ExecuteInProcessResult:
    """The daily_retrain schedule's job."""
    assert defs.resolve_schedule_def("daily_retrain").job_name == lifecycle_job.name
    return defs.resolve_job_def(lifecycle_job.name).execute_in_process(
        instance=instance,
        resources={"flashmm": resource},
        run_config={"ops": {"candidate_model": {"config": {"shuffle_labels_seed": shuffle}}}},
        raise_on_error=False,
    )


def _materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events() if e.asset_key}


BOOTSTRAP_SAMPLES = 100
"""Feature samples the first-start sensor waits for (the slice holds a few hundred warm ones)."""
GRAPH_TIMEOUT_S = 1500
"""Three trainings and two validations: minutes on a busy 2-core machine (a hang guard, not a speed test)."""


@pytest.mark.slow
@pytest.mark.timeout(GRAPH_TIMEOUT_S)
@pytest.mark.covers(
    *(f"asset:{a}" for a in HOURLY + LIFECYCLE),
    "check:market_events.time_monotonic", "check:market_events.positive_sizes",
    "check:market_events.no_crossed_book", "check:market_events.sequence_continuity",
    "check:market_events.no_long_gap", "check:market_events.not_empty",
    "check:features.has_warm_samples", "check:features.finite_after_warmup", "check:features.values_in_range",
    "check:training_set.enough_samples", "check:training_set.class_balance",
    "check:model_validation.beats_comparator", "check:model_validation.drawdown_within_limit",
    "check:model_validation.latency_within_budget",
    "check:exported_model.torchscript_parity", "check:exported_model.inference_latency",
    "sensor:publish_production_model", "sensor:record_run_failure", "sensor:bootstrap_lifecycle",
    "schedule:daily_retrain",
    data="fixture",
)  # fmt: skip
def test_gate_promotes_then_blocks_a_worse_candidate(
    tmp_path: Path, fixtures_dir: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(fixtures_dir / "binance" / SPOT_SLICE, drop / SPOT_SLICE)
    resource = FlashmmResource(home=str(tmp_path / "home"), drop_dirs=[str(drop)], redis_url=redis_url)
    db = resource.database()
    instance = dg.DagsterInstance.ephemeral()
    key = partition_key("2024-08-08-23:00", "binance-spot-ethusdt")
    hourly = dg.materialize(
        ASSETS, instance=instance, resources={"flashmm": resource}, selection=HOURLY, partition_key=str(key)
    )
    assert hourly.success
    checks = {e.check_name: e.passed for e in hourly.get_asset_check_evaluations()}
    assert len(checks) == 9 and all(checks.values())

    monkeypatch.setenv("FLASHMM_PIPELINE__GATE_METRICS", '["quote_uptime"]')
    monkeypatch.setenv("FLASHMM_PIPELINE__GATE_MARGIN", "-1.0")
    monkeypatch.setenv("FLASHMM_PIPELINE__BOOTSTRAP_MIN_SAMPLES", str(BOOTSTRAP_SAMPLES))
    sensor = dg.build_sensor_context(instance=instance, resources={"flashmm": resource})
    (bootstrap,) = bootstrap_lifecycle(sensor).run_requests
    assert int(bootstrap.tags["flashmm/bootstrap"]) >= BOOTSTRAP_SAMPLES
    first = _lifecycle(instance, resource, shuffle=None)
    assert first.success
    assert _materialized(first) == set(LIFECYCLE)
    verdicts = {e.check_name: e.passed for e in first.get_asset_check_evaluations()}
    assert set(verdicts) == LIFECYCLE_CHECKS and all(verdicts.values()), verdicts
    promoted = production_version(db, "flashmm")
    assert promoted is not None and promoted.stage == "production"
    stands_down = bootstrap_lifecycle(sensor)
    assert not stands_down.run_requests and stands_down.skip_reason is not None
    assert "is in production" in (stands_down.skip_reason.skip_message or "")

    context = dg.build_sensor_context(instance=instance, resources={"flashmm": resource})
    tick = publish_production_model.evaluate_tick(context)
    assert f"published flashmm/{promoted.version} to {MODEL_STREAM}" in (tick.skip_message or "")
    entries = redis.Redis.from_url(redis_url).xrange(MODEL_STREAM)
    assert len(entries) == 1
    fields = {k.decode(): v.decode() for k, v in entries[0][1].items()}
    assert fields == {"name": "flashmm", "version": promoted.version, "path": promoted.path,
                      "sha256": promoted.sha256}  # fmt: skip

    monkeypatch.setenv("FLASHMM_PIPELINE__GATE_METRICS", '["log_loss"]')
    monkeypatch.setenv("FLASHMM_PIPELINE__GATE_MARGIN", "0.0")
    worse = _lifecycle(instance, resource, shuffle=1)
    assert not worse.success
    assert _materialized(worse) == {"training_set", "candidate_model", "model_validation"}
    gate = {
        e.check_name: e for e in worse.get_asset_check_evaluations() if e.check_name == "beats_comparator"
    }
    verdict = gate["beats_comparator"]
    assert not verdict.passed
    (failing,) = verdict.metadata["failing_values"].value
    assert failing["name"] == "log_loss" and failing["comparator"] == "production"
    assert failing["observed"] > failing["threshold"]
    assert production_version(db, "flashmm") == promoted

    monkeypatch.setenv("FLASHMM_PIPELINE__ROOT", str(resource.layout().root))
    failure = next(e for e in worse.all_events if e.event_type_value == "PIPELINE_FAILURE")
    record_run_failure(
        dg.build_run_status_sensor_context(
            sensor_name="record_run_failure", dagster_instance=instance,
            dagster_run=worse.dagster_run, dagster_event=failure,
        ).for_run_failure()
    )  # fmt: skip
    (alert,) = [json.loads(line) for line in resource.layout().alerts.read_text().splitlines()]
    assert alert["run_id"] == worse.run_id and alert["job"] == lifecycle_job.name
