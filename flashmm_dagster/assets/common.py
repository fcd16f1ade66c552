"""Small helpers the assets share: partition keys of a run, times and tables as metadata."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from flashmm_dagster.partitions import split_key


def run_partitions(context: dg.AssetExecutionContext) -> list[tuple[str, str]]:
    """(hour, market) of every partition this run materializes (one, or a backfill's range)."""
    return [split_key(key) for key in context.partition_keys]


def iso(ts_ns: int | None) -> str | None:
    return None if ts_ns is None else datetime.fromtimestamp(ts_ns / 1e9, UTC).isoformat()


def md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> dg.MetadataValue:
    from flashmm_engine.reports.html import markdown_table

    return dg.MetadataValue.md(markdown_table(headers, rows))
