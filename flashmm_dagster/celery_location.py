"""The ingest job on the celery executor (dagster-celery, Redis broker): each step is a celery task that
any worker started with `dagster-celery worker start -A dagster_celery.app -y <config>` can run.

The broker and backend are the run config's `execution.config` (`celery_run_config()` builds it from
`FLASHMM_DAGSTER_CELERY_BROKER` / `FLASHMM_DAGSTER_CELERY_BACKEND`, default the local Redis db 0), read when
the run launches, not when the module is imported. The job is loadable by reference
(`flashmm_dagster.celery_location:ingest_on_celery`), as celery workers need.
"""

import os
from typing import Any

import dagster as dg
from dagster_celery import celery_executor

from flashmm_dagster.definitions import ASSETS
from flashmm_dagster.partitions import hour_market_partitions
from flashmm_dagster.resources import FlashmmResource

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"

celery_defs = dg.Definitions(
    assets=ASSETS,
    jobs=[
        dg.define_asset_job(
            "ingest_on_celery",
            selection=dg.AssetSelection.assets("raw_segments", "market_events"),
            partitions_def=hour_market_partitions,
            executor_def=celery_executor,
        )
    ],
    resources={"flashmm": FlashmmResource()},
)


def ingest_on_celery() -> dg.JobDefinition:
    return celery_defs.resolve_job_def("ingest_on_celery")


def celery_run_config() -> dict[str, Any]:
    broker = os.environ.get("FLASHMM_DAGSTER_CELERY_BROKER", DEFAULT_BROKER)
    backend = os.environ.get("FLASHMM_DAGSTER_CELERY_BACKEND", broker)
    return {"execution": {"config": {"broker": broker, "backend": backend}}}
