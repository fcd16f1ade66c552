"""Jobs the schedules and sensors launch. They run in process: one Python process per run instead of one
per step (each would import torch, pandas and the feature kernel again), which on a small machine is most
of a run's cost; the steps of these jobs run one after the other anyway."""

from __future__ import annotations

import dagster as dg

from flashmm_dagster.partitions import hour_market_partitions

ingest_job = dg.define_asset_job(
    "ingest_and_features",
    selection=dg.AssetSelection.assets("raw_segments", "market_events", "features"),
    partitions_def=hour_market_partitions,
    executor_def=dg.in_process_executor,
    description="One (hour, market): raw segments -> normalized events -> batch features, with their checks.",
)
lifecycle_job = dg.define_asset_job(
    "retrain_validate_promote",
    selection=dg.AssetSelection.assets(
        "training_set", "candidate_model", "model_validation", "exported_model", "production_model"
    ),
    executor_def=dg.in_process_executor,
    description="Training set -> candidate -> validation gate (blocking) -> export -> promotion.",
)
live_job = dg.define_asset_job(
    "observe_live_trading",
    selection=dg.AssetSelection.assets("live_trading"),
    executor_def=dg.in_process_executor,
)
report_job = dg.define_asset_job(
    "daily_report_job",
    selection=dg.AssetSelection.assets("daily_report"),
    executor_def=dg.in_process_executor,
)
