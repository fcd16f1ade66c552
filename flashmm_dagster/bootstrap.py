"""First start: with no production model yet, retrain/validate/promote runs as soon as the engine's own
recording, ingested by `new_raw_segment`, holds `FLASHMM_PIPELINE__BOOTSTRAP_MIN_SAMPLES` feature samples,
instead of waiting for the 00:30 retrain. A failed or blocked attempt is retried once the features have grown
by `RETRY_GROWTH`; once a version is in production the sensor only skips."""

from __future__ import annotations

import json

import dagster as dg
import pyarrow.parquet as pq

from flashmm_dagster.jobs import lifecycle_job
from flashmm_dagster.resources import FlashmmResource
from flashmm_dagster.sensors import IN_FLIGHT
from flashmm_engine.models.registry import ModelRegistry
from flashmm_engine.pipeline.layout import FEATURES_FILE, Layout

BOOTSTRAP_INTERVAL_S = 20
RETRY_GROWTH = 1.5


def feature_samples(layout: Layout, markets: list[str]) -> int:
    """Samples in the stored feature partitions of the markets (Parquet footers only)."""
    total = 0
    for market in markets:
        for hour in layout.feature_hours(market):
            total += pq.ParquetFile(layout.features(market, hour) / FEATURES_FILE).metadata.num_rows
    return total


@dg.sensor(
    job=lifecycle_job,
    minimum_interval_seconds=BOOTSTRAP_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def bootstrap_lifecycle(context: dg.SensorEvaluationContext, flashmm: FlashmmResource) -> dg.SensorResult:
    """No model in production and enough recorded features: launch `retrain_validate_promote` once (again
    after a failed attempt when the features have grown by half)."""
    settings = flashmm.settings()
    pipeline = settings.pipeline
    registry = ModelRegistry(flashmm.database())
    try:
        production = registry.production(pipeline.model_name)
    finally:
        registry.close()
    if production is not None:
        return dg.SensorResult(skip_reason=f"{pipeline.model_name}/{production.version} is in production")
    in_flight = context.instance.get_runs_count(
        dg.RunsFilter(job_name=lifecycle_job.name, statuses=IN_FLIGHT)
    )
    if in_flight:
        return dg.SensorResult(skip_reason=f"{in_flight} {lifecycle_job.name} run(s) in flight")
    samples = feature_samples(flashmm.layout(), list(pipeline.markets))
    last: int | None = json.loads(context.cursor) if context.cursor else None
    needed = pipeline.bootstrap_min_samples if last is None else int(last * RETRY_GROWTH)
    if samples < needed:
        return dg.SensorResult(skip_reason=f"{samples} feature samples stored; bootstrap waits for {needed}")
    context.log.info("bootstrap: no production model, %d feature samples: launching the lifecycle", samples)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=f"bootstrap:{samples}", tags={"flashmm/bootstrap": str(samples)})
        ],
        cursor=json.dumps(samples),
    )
