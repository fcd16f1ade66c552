"""The first-start sensor: nothing until the stored features hold `bootstrap_min_samples`; then one
retrain/validate/promote request; after a failed attempt, again only once the features have grown by half;
nothing while such a run is in flight, or once a version is in production."""

import uuid
from pathlib import Path

import dagster as dg
import pandas as pd

from flashmm_dagster.bootstrap import RETRY_GROWTH, bootstrap_lifecycle
from flashmm_dagster.jobs import lifecycle_job
from flashmm_dagster.resources import FlashmmResource
from flashmm_engine.models.registry import ModelRegistry
from flashmm_engine.pipeline.layout import FEATURES_FILE, Layout

MARKET = "sim-ethusd"
MIN_SAMPLES = 100


def _features(layout: Layout, hour: str, rows: int) -> None:
    out = layout.features(MARKET, hour)
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"ts": range(rows), "warm": [True] * rows}).to_parquet(out / FEATURES_FILE)


def _evaluate(
    resource: FlashmmResource, instance: dg.DagsterInstance, cursor: str | None = None
) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"flashmm": resource})
    result = bootstrap_lifecycle(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_bootstrap_waits_for_samples_retries_on_growth_and_stops_at_production(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("FLASHMM_PIPELINE__MARKETS", f'["{MARKET}"]')
    monkeypatch.setenv("FLASHMM_PIPELINE__BOOTSTRAP_MIN_SAMPLES", str(MIN_SAMPLES))
    db = f"sqlite:///{tmp_path / 'registry.db'}"
    resource = FlashmmResource(pipeline_root=str(tmp_path / "pipeline"), database_url=db)
    layout = Layout(tmp_path / "pipeline")
    instance = dg.DagsterInstance.ephemeral()

    _features(layout, "2026-12-02-04:00", MIN_SAMPLES - 1)
    waiting = _evaluate(resource, instance)
    assert waiting.run_requests == [] and f"waits for {MIN_SAMPLES}" in str(waiting.skip_reason)

    _features(layout, "2026-12-02-05:00", 1)
    first = _evaluate(resource, instance)
    assert [r.tags["flashmm/bootstrap"] for r in first.run_requests] == [str(MIN_SAMPLES)]

    _features(layout, "2026-12-02-05:00", 10)  # the attempt failed; the features grow, but not by half
    assert _evaluate(resource, instance, first.cursor).run_requests == []
    grown = int(MIN_SAMPLES * RETRY_GROWTH)
    _features(layout, "2026-12-02-05:00", grown - (MIN_SAMPLES - 1))
    retry = _evaluate(resource, instance, first.cursor)
    assert [r.run_key for r in retry.run_requests] == [f"bootstrap:{grown}"]

    _features(layout, "2026-12-02-06:00", 10 * MIN_SAMPLES)
    instance.add_run(
        dg.DagsterRun(
            job_name=lifecycle_job.name, run_id=str(uuid.uuid4()), status=dg.DagsterRunStatus.STARTED
        )
    )
    busy = _evaluate(resource, instance, retry.cursor)
    assert busy.run_requests == [] and "in flight" in str(busy.skip_reason)
    registry = ModelRegistry(db)
    try:
        registry.register("flashmm", "v1", str(tmp_path / "v1"), "0" * 64, {})
        registry.advance("flashmm", "v1", "production")
    finally:
        registry.close()
    done = _evaluate(resource, instance, retry.cursor)
    assert done.run_requests == [] and "flashmm/v1 is in production" in str(done.skip_reason)
