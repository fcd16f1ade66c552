"""Jobs the schedules and sensors launch."""

from __future__ import annotations

import dagster as dg

from flashmm_dagster.partitions import hour_market_partitions

ingest_job = dg.define_asset_job(
    "ingest_and_features",
    selection=dg.AssetSelection.assets("raw_segments", "market_events", "features"),
    partitions_def=hour_market_partitions,
    description="One (hour, market): raw segments -> normalized events -> batch features, with their checks.",
)
lifecycle_job = dg.define_asset_job(
    "retrain_validate_promote",
    selection=dg.AssetSelection.assets(
        "training_set", "candidate_model", "model_validation", "exported_model", "production_model"
    ),
    description="Training set -> candidate -> validation gate (blocking) -> export -> promotion.",
)
live_job = dg.define_asset_job("observe_live_trading", selection=dg.AssetSelection.assets("live_trading"))
report_job = dg.define_asset_job("daily_report_job", selection=dg.AssetSelection.assets("daily_report"))
