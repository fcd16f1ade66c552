"""Ingestion: raw segments (recorder hours and dropped captures) -> normalized Parquet events."""

from pathlib import Path
from typing import Any

import dagster as dg
import orjson

from flashmm_dagster.assets.common import iso, md_table, run_partitions
from flashmm_dagster.checks import market_events as events_checks
from flashmm_dagster.checks.gx import merge_partitions
from flashmm_dagster.partitions import BACKFILL_POLICY, hour_market_partitions
from flashmm_dagster.resources import FlashmmResource
from flashmm_engine.pipeline.ingest import ingest_partition
from flashmm_engine.pipeline.segments import Segment, describe_segment, discover, for_partition

GROUP = "ingest"


@dg.asset(
    group_name=GROUP,
    partitions_def=hour_market_partitions,
    backfill_policy=BACKFILL_POLICY,
    kinds={"file"},
)
def raw_segments(context: dg.AssetExecutionContext, flashmm: FlashmmResource) -> dg.MaterializeResult:  # type: ignore[type-arg]
    """**Raw feed segments** of one hour and market: the engine recorder's hourly files
    (`FLASHMM_RECORDER__DIRECTORY/<venue>/`) and any capture dropped into a `FLASHMM_PIPELINE__DROP_DIRS`
    folder.

    Every segment carries its instrument spec (the recorder's `.spec.json` sidecar, else the venue's own
    metadata or what the capture shows), recorded here so no later stage guesses tick or lot sizes.
    Files are kept as received, so any normalization can be re-run."""
    layout = flashmm.layout()
    segments, refused = discover(flashmm.raw_dirs())
    rows: list[list[Any]] = []
    for hour, market in run_partitions(context):
        chosen = for_partition(segments, market, hour)
        path = layout.raw_manifest(market, hour)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps([s.describe() for s in chosen], option=orjson.OPT_INDENT_2))
        rows += [[hour, market, s.path.name, s.size_bytes, s.spec.tick_size, s.spec.lot_size] for s in chosen]
        if not chosen:
            rows.append([hour, market, "(none)", 0, None, None])
    return dg.MaterializeResult(
        metadata={
            "segments": sum(1 for r in rows if r[3]),
            "bytes": sum(int(r[3]) for r in rows),
            "partitions": len(context.partition_keys),
            "segment_table": md_table(["hour", "market", "file", "bytes", "tick", "lot"], rows),
            "searched": dg.MetadataValue.json([str(p) for p in flashmm.raw_dirs()]),
            "unreadable_files": dg.MetadataValue.json(refused),
        }
    )


def partition_segments(flashmm: FlashmmResource, market: str, hour: str) -> list[Segment]:
    path = flashmm.layout().raw_manifest(market, hour)
    if not path.is_file():
        return []
    return [describe_segment(Path(item["path"])) for item in orjson.loads(path.read_bytes())]


@dg.asset(
    group_name=GROUP,
    partitions_def=hour_market_partitions,
    backfill_policy=BACKFILL_POLICY,
    deps=[raw_segments],
    check_specs=events_checks.specs(),
    kinds={"parquet"},
)
def market_events(context: dg.AssetExecutionContext, flashmm: FlashmmResource) -> dg.MaterializeResult:  # type: ignore[type-arg]
    """**Normalized market events** (Parquet, one table per kind: `book_delta`, `book_snapshot`, `trade`,
    `top_of_book`, plus `spec.json`), produced by the venue's own feed pipeline, the live connector's code.

    Checks: time monotonic per stream, positive sizes, no crossed book, sequence continuity, no gap longer
    than `pipeline.max_gap_s`, not empty."""
    settings = flashmm.settings()
    layout = flashmm.layout()
    rows: list[list[Any]] = []
    checks: dict[str, dict[str, dg.AssetCheckResult]] = {name: {} for name in events_checks.CHECKS}
    total = 0
    for hour, market in run_partitions(context):
        out_dir = layout.events(market, hour)
        summary = ingest_partition(partition_segments(flashmm, market, hour), market, out_dir)
        total += sum(summary.rows.values())
        rows.append(
            [hour, market, *summary.rows.values(), summary.resyncs, iso(summary.ts_min), iso(summary.ts_max)]
        )
        for name, result in events_checks.run_checks(out_dir, settings.pipeline.max_gap_s).items():
            checks[name][f"{hour}|{market}"] = result
    return dg.MaterializeResult(
        metadata={
            "rows": total,
            "partitions": len(rows),
            "tables": md_table(
                [
                    "hour",
                    "market",
                    "book_delta",
                    "book_snapshot",
                    "trade",
                    "top_of_book",
                    "resyncs",
                    "from",
                    "to",
                ],
                rows,
            ),
            "first_event": rows[0][7] if rows else None,
            "last_event": rows[-1][8] if rows else None,
            "path": dg.MetadataValue.path(str(layout.root / "events")),
        },
        check_results=[merge_partitions(n, events_checks.ASSET, by) for n, by in checks.items()],
    )
