"""Schedules, all in UTC, running from the first start (a fresh `make run` runs the whole lifecycle)."""

from collections.abc import Iterator
from datetime import timedelta

import dagster as dg

from flashmm_dagster.jobs import ingest_job, lifecycle_job, live_job, report_job
from flashmm_dagster.partitions import MARKET, hour_market_partitions, partition_key

HOUR_FORMAT = "%Y-%m-%d-%H:00"


ON = dg.DefaultScheduleStatus.RUNNING


@dg.schedule(job=ingest_job, cron_schedule="5 * * * *", execution_timezone="UTC", default_status=ON)
def hourly_ingest(context: dg.ScheduleEvaluationContext) -> Iterator[dg.RunRequest]:
    """Five minutes past each hour: ingest and compute features of the hour that just ended, every market."""
    hour = (context.scheduled_execution_time - timedelta(hours=1)).strftime(HOUR_FORMAT)
    for market in hour_market_partitions.get_partitions_def_for_dimension(MARKET).get_partition_keys():
        key = partition_key(hour, market)
        yield dg.RunRequest(run_key=f"{hour}|{market}", partition_key=key)


daily_retrain = dg.ScheduleDefinition(
    name="daily_retrain",
    job=lifecycle_job,
    cron_schedule="30 0 * * *",
    execution_timezone="UTC",
    default_status=ON,
    description="00:30 UTC: training set -> candidate -> validation gate -> export -> promotion.",
)


@dg.schedule(job=report_job, cron_schedule="0 1 * * *", execution_timezone="UTC", default_status=ON)
def daily_report_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """01:00 UTC: the report of the day that just ended."""
    day = (context.scheduled_execution_time - timedelta(days=1)).strftime("%Y-%m-%d")
    return dg.RunRequest(run_key=day, partition_key=day)


live_trading_every_minute = dg.ScheduleDefinition(
    name="live_trading_every_minute",
    job=live_job,
    cron_schedule="* * * * *",
    execution_timezone="UTC",
    default_status=ON,
    description="Observe the engine's /status every minute.",
)
