"""Great Expectations 1.x, called directly: one ephemeral context per process, one batch per DataFrame."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import dagster as dg
import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

SAMPLE_ROWS = 10


@cache
def _batch_definition() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("flashmm")
    return source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("whole")


def expect(
    check_name: str,
    frame: pd.DataFrame,
    expectation: Any,
    asset: str,
    context: dict[str, Any] | None = None,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
) -> dg.AssetCheckResult:
    """Validate `frame` against one GX expectation; the result's metadata names the expectation, what was
    observed, and up to SAMPLE_ROWS offending rows."""
    batch = _batch_definition().get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(expectation)
    observed = dict(result.result)
    indexes = observed.pop("partial_unexpected_index_list", None) or []
    metadata: dict[str, Any] = {
        "expectation": dg.MetadataValue.json(
            {"type": result.expectation_config.type, **_plain(result.expectation_config.kwargs)}
        ),
        "observed": dg.MetadataValue.json(_plain(observed)),
        "rows_checked": len(frame),
        **(context or {}),
    }
    if not result.success and indexes:
        rows = frame.loc[[i for i in indexes if i in frame.index][:SAMPLE_ROWS]]
        metadata["sample_rows"] = dg.MetadataValue.md(rows.to_markdown())
    return dg.AssetCheckResult(
        check_name=check_name,
        asset_key=dg.AssetKey(asset),
        passed=bool(result.success),
        severity=severity,
        metadata=metadata,
    )


def _plain(value: Any) -> Any:
    """JSON-safe copy (GX hands back enums, numpy scalars and NaN)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if k not in ("batch_id", "result_format")}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def expect_all(
    check_name: str,
    asset: str,
    cases: list[tuple[str, pd.DataFrame, Any]],
    context: dict[str, Any] | None = None,
) -> dg.AssetCheckResult:
    """Several expectations behind one check: it passes when all do; the metadata is the first failing
    case's (named in `failed_case`), else the first case's."""
    results = [(label, expect(check_name, frame, e, asset, context)) for label, frame, e in cases]
    failing = [(label, r) for label, r in results if not r.passed]
    label, shown = (failing or results)[0]
    metadata: dict[str, Any] = {**shown.metadata, "cases": ", ".join(lbl for lbl, _ in results)}
    if failing:
        metadata["failed_case"] = label
    return dg.AssetCheckResult(
        check_name=check_name, asset_key=dg.AssetKey(asset), passed=not failing, metadata=metadata
    )


def merge_partitions(
    check_name: str, asset: str, by_partition: dict[str, dg.AssetCheckResult]
) -> dg.AssetCheckResult:
    """One run may cover many partitions (backfills): the check passes when every partition's does, and
    shows the first failing partition's evidence."""
    failing = {k: r for k, r in by_partition.items() if not r.passed}
    key, shown = next(iter((failing or by_partition).items()))
    metadata: dict[str, Any] = {
        **shown.metadata,
        "partition_shown": key,
        "partitions_checked": len(by_partition),
        "partitions_failed": dg.MetadataValue.json(sorted(failing)),
    }
    return dg.AssetCheckResult(
        check_name=check_name, asset_key=dg.AssetKey(asset), passed=not failing, metadata=metadata
    )
