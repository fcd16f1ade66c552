"""Partitions: every (hour, market) pair for the data stages, one day for the report. Markets come from
`FLASHMM_PIPELINE__MARKETS`, the first hour from `FLASHMM_PIPELINE__START`."""

from __future__ import annotations

import dagster as dg

from flashmm_engine.config.settings import load_settings

HOUR = "hour"
MARKET = "market"

_pipeline = load_settings().pipeline

# end_offset=1: the hour in progress is a partition, so the recorder's current segment is ingested as it grows
hourly_partitions = dg.HourlyPartitionsDefinition(start_date=_pipeline.start, timezone="UTC", end_offset=1)
market_partitions = dg.StaticPartitionsDefinition(list(_pipeline.markets))
hour_market_partitions = dg.MultiPartitionsDefinition({HOUR: hourly_partitions, MARKET: market_partitions})
daily_partitions = dg.DailyPartitionsDefinition(start_date=_pipeline.start[:10], timezone="UTC", end_offset=1)

BACKFILL_POLICY = dg.BackfillPolicy.multi_run(max_partitions_per_run=24)
"""A backfill of 24 hours x 2 markets runs as two runs, each stage going over its partitions in one step."""


def split_key(key: str) -> tuple[str, str]:
    """A multi-partition key -> (hour key, market)."""
    parsed = hour_market_partitions.get_partition_key_from_str(key)
    by_dimension = parsed.keys_by_dimension
    return by_dimension[HOUR], by_dimension[MARKET]


def partition_key(hour: str, market: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({HOUR: hour, MARKET: market})
