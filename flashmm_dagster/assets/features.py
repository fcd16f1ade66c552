"""Batch features per (hour, market): the engine's own FeatureState over the stored events."""

from typing import Any

import dagster as dg

from flashmm_dagster.assets.common import iso, md_table, run_partitions
from flashmm_dagster.assets.ingest import market_events
from flashmm_dagster.checks import features as feature_checks
from flashmm_dagster.checks.gx import merge_partitions
from flashmm_dagster.partitions import BACKFILL_POLICY, hour_market_partitions
from flashmm_dagster.resources import FlashmmResource
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.models.pipeline import sample_grid_ns
from flashmm_engine.pipeline.ingest import features_partition, frame_summary

GROUP = "features"


@dg.asset(
    group_name=GROUP,
    partitions_def=hour_market_partitions,
    backfill_policy=BACKFILL_POLICY,
    deps=[market_events],
    check_specs=feature_checks.specs(),
    kinds={"parquet"},
)
def features(context: dg.AssetExecutionContext, flashmm: FlashmmResource) -> dg.MaterializeResult:  # type: ignore[type-arg]
    """**Batch features** sampled every `FLASHMM_MODELS__SAMPLE_MS` on the stored events: the engine's
    incremental `FeatureState` driven over them, the same code the live engine runs (a parity test holds
    them equal), with the mid path labels are computed from. This is the backfill target: a backfill of
    many hours runs them in few runs (backfill policy: up to 24 partitions per run).

    Checks: warm samples present, no NaN/inf after warm-up, values in range."""
    settings = flashmm.settings()
    layout = flashmm.layout()
    spec = FeatureSpec()
    sample_ns = sample_grid_ns(spec, settings.models)
    rows: list[list[Any]] = []
    checks: dict[str, dict[str, dg.AssetCheckResult]] = {name: {} for name in feature_checks.CHECKS}
    stats_md = None
    for hour, market in run_partitions(context):
        out_dir = layout.features(market, hour)
        frame = features_partition(layout.events(market, hour), out_dir, market, sample_ns)
        summary = frame_summary(frame)
        counts = [summary["samples"], summary["warm_samples"], summary["non_finite_after_warmup"]]
        rows.append([hour, market, *counts, iso(summary["ts_min"]), iso(summary["ts_max"])])
        if summary["stats"] is not None and stats_md is None:
            stats_md = dg.MetadataValue.md(summary["stats"].to_markdown(floatfmt=".4g"))
        for name, result in feature_checks.run_checks(out_dir).items():
            checks[name][f"{hour}|{market}"] = result
    metadata: dict[str, Any] = {
        "samples": sum(r[2] for r in rows),
        "warm_samples": sum(r[3] for r in rows),
        "partitions": len(rows),
        "spec_hash": spec.spec_hash(),
        "sample_ms": settings.models.sample_ms,
        "table": md_table(["hour", "market", "samples", "warm", "non-finite", "from", "to"], rows),
        "path": dg.MetadataValue.path(str(layout.root / "features")),
    }
    if stats_md is not None:
        metadata["feature_stats_first_partition"] = stats_md
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[merge_partitions(n, feature_checks.ASSET, by) for n, by in checks.items()],
    )
