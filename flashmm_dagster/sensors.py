"""Sensors: a new raw segment triggers its ingestion; a promotion is announced to engines; a failed run is
recorded and alerted."""

import json
import logging
import time
from typing import Any

import dagster as dg

from flashmm_dagster.jobs import ingest_job
from flashmm_dagster.partitions import hour_market_partitions, partition_key
from flashmm_dagster.resources import FlashmmResource
from flashmm_engine.models.registry import ModelRegistry
from flashmm_engine.models.registry_stream import message_of, publish
from flashmm_engine.pipeline.segments import discover

log = logging.getLogger(__name__)

IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]
PUBLISH_INTERVAL_S = 5
SEGMENT_INTERVAL_S = 30


@dg.sensor(
    job=ingest_job, minimum_interval_seconds=SEGMENT_INTERVAL_S, default_status=dg.DefaultSensorStatus.RUNNING
)
def new_raw_segment(context: dg.SensorEvaluationContext, flashmm: FlashmmResource) -> dg.SensorResult:
    """A raw segment that is new or has grown since the last look (the recorder appends to the current
    hour's file) launches ingestion + features for its (hour, market), unless a run of that partition is
    still queued or running (the growth is picked up at a later tick, so runs do not pile up behind a file
    that grows faster than it is ingested). Segments of markets outside the partitions are skipped and
    named in the log."""
    seen: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
    segments, refused = discover(flashmm.raw_dirs())
    markets = set(hour_market_partitions.get_partitions_def_for_dimension("market").get_partition_keys())
    requests, current = [], {}
    for segment in segments:
        stamp = segment.mtime_ns
        current[str(segment.path)] = stamp
        if seen.get(str(segment.path)) == stamp:
            continue
        if segment.market not in markets:
            context.log.info(
                "%s: market %s is not a partition (FLASHMM_PIPELINE__MARKETS)", segment.path, segment.market
            )
            continue
        key = partition_key(segment.hour_key, segment.market)
        if _in_flight(context, str(key)):
            current[str(segment.path)] = seen.get(str(segment.path), 0)
            continue
        requests.append(dg.RunRequest(run_key=f"{segment.path}:{stamp}", partition_key=key,
                                      tags={"flashmm/segment": str(segment.path)}))  # fmt: skip
    for path, reason in refused.items():
        context.log.warning("unreadable capture %s: %s", path, reason)
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(current, sort_keys=True))


@dg.asset_sensor(asset_key=dg.AssetKey("production_model"), minimum_interval_seconds=PUBLISH_INTERVAL_S,
                 required_resource_keys={"flashmm"},
                 default_status=dg.DefaultSensorStatus.RUNNING)  # fmt: skip
def publish_production_model(
    context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry
) -> dg.SkipReason:
    """Each `production_model` materialization: check the registry row (the truth engines poll) is in
    production, then append `{name, version, path, sha256}` to the Redis stream `flashmm:models` so engines
    reload now rather than at their next poll."""
    flashmm: FlashmmResource = context.resources.flashmm
    materialization = asset_event.asset_materialization
    assert materialization is not None
    meta = materialization.metadata
    name, version = _text(meta["name"]), _text(meta["version"])
    registry = ModelRegistry(flashmm.database())
    try:
        row = registry.get(name, version)
        if row.stage != "production":
            if registry.production(name) is not None:
                return dg.SkipReason(f"{name}/{version} is {row.stage} now (a later change superseded it)")
            row = registry.advance(name, version, "production").model
    finally:
        registry.close()
    redis_url = flashmm.redis()
    if redis_url is None:
        return dg.SkipReason(
            f"{name}/{version} in production; no Redis configured: engines pick it up by polling"
        )
    reload = flashmm.settings().reload
    entry = publish(redis_url, reload.stream, reload.stream_maxlen, row)
    if entry is None:
        return dg.SkipReason(
            f"{name}/{version} in production; Redis unreachable: engines pick it up by polling"
        )
    context.log.info("published %s to %s as %s", message_of(row), reload.stream, entry)
    return dg.SkipReason(f"published {name}/{version} to {reload.stream} (entry {entry})")


def _in_flight(context: dg.SensorEvaluationContext, partition: str) -> bool:
    runs = dg.RunsFilter(job_name=ingest_job.name, statuses=IN_FLIGHT, tags={"dagster/partition": partition})
    return context.instance.get_runs_count(runs) > 0


def _text(value: Any) -> str:
    return str(getattr(value, "value", value))


@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING, monitor_all_code_locations=False)
def record_run_failure(context: dg.RunFailureSensorContext) -> None:
    """A failed run is appended to `<pipeline root>/alerts/run_failures.jsonl` and logged at ERROR (the
    alert: log shippers and the UI's sensor tick show it)."""
    from flashmm_engine.config.settings import load_settings
    from flashmm_engine.pipeline.layout import Layout

    run = context.dagster_run
    row = {
        "at": time.time(),
        "run_id": run.run_id,
        "job": run.job_name,
        "partition": run.tags.get("dagster/partition"),
        "error": context.failure_event.message,
        "steps_failed": [e.step_key for e in context.get_step_failure_events()],
    }
    path = Layout(load_settings().pipeline.root).alerts
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(json.dumps(row) + "\n")
    log.error("dagster run %s (%s) failed: %s", run.run_id, run.job_name, row["error"])
