"""The Dagster code location: assets by stage, their checks, jobs, schedules, sensors and the resource."""

from __future__ import annotations

import dagster as dg

from flashmm_dagster.assets.deploy import exported_model, production_model
from flashmm_dagster.assets.features import features
from flashmm_dagster.assets.ingest import market_events, raw_segments
from flashmm_dagster.assets.live import live_trading
from flashmm_dagster.assets.reports import daily_report
from flashmm_dagster.assets.training import candidate_model, training_set
from flashmm_dagster.assets.validation import model_validation
from flashmm_dagster.bootstrap import bootstrap_lifecycle
from flashmm_dagster.jobs import ingest_job, lifecycle_job, live_job, report_job
from flashmm_dagster.resources import FlashmmResource
from flashmm_dagster.schedules import (
    daily_report_schedule,
    daily_retrain,
    hourly_ingest,
    live_trading_every_minute,
)
from flashmm_dagster.sensors import new_raw_segment, publish_production_model, record_run_failure

ASSETS = [
    raw_segments,
    market_events,
    features,
    training_set,
    candidate_model,
    model_validation,
    exported_model,
    production_model,
    live_trading,
    daily_report,
]

defs = dg.Definitions(
    assets=ASSETS,
    jobs=[ingest_job, lifecycle_job, live_job, report_job],
    schedules=[hourly_ingest, daily_retrain, daily_report_schedule, live_trading_every_minute],
    sensors=[new_raw_segment, publish_production_model, record_run_failure, bootstrap_lifecycle],
    resources={"flashmm": FlashmmResource()},
)
