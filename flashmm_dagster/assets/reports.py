"""The daily report."""

import base64
from datetime import datetime
from typing import Any

import dagster as dg

from flashmm_dagster.assets.common import md_table
from flashmm_dagster.partitions import daily_partitions
from flashmm_dagster.resources import FlashmmResource
from flashmm_engine.reports.daily import (
    ATTRIBUTION_HEADERS,
    DRIFT_HEADERS,
    attribution_rows,
    build_daily_report,
    drift_rows,
)

GROUP = "reports"


@dg.asset(group_name=GROUP, partitions_def=daily_partitions, kinds={"html"})
def daily_report(context: dg.AssetExecutionContext, flashmm: FlashmmResource) -> dg.MaterializeResult:  # type: ignore[type-arg]
    """**Daily report** (UTC day) from the ledger and the day's recorded market data: PnL, fills, markouts at
    1/5/30 s, spread captured, inventory, the model versions live that day; PnL attribution (spread capture,
    inventory, adverse selection, fees: they sum to the total); the shadow challenger's accuracy beside
    production's when the engine ran one; and **live vs backtest drift**: the day's data replayed through the
    backtester with the live model, compared with the ledger. Plots here and in the HTML file."""
    settings = flashmm.settings()
    day = datetime.strptime(context.partition_key, "%Y-%m-%d")
    report = build_daily_report(flashmm.layout(), flashmm.database(), settings.pipeline.model_name, day)
    data = report.data
    metadata: dict[str, Any] = {
        "day": report.day,
        "markets": len(data["markets"]),
        "fills": sum(m["fills"] for m in data["markets"].values()),
        "html": dg.MetadataValue.path(str(report.html_path)),
        "json": dg.MetadataValue.path(str(report.json_path)),
        "attribution": md_table(ATTRIBUTION_HEADERS, attribution_rows(data)),
        "drift": md_table(DRIFT_HEADERS, drift_rows(data)),
        "model_versions": dg.MetadataValue.json(data["model_versions"]),
        "shadow": dg.MetadataValue.json(data["shadow"] or {"note": data["shadow_note"]}),
    }
    for name, png in report.plots.items():
        encoded = base64.b64encode(png).decode()
        metadata[f"plot_{name}"] = dg.MetadataValue.md(f"![{name}](data:image/png;base64,{encoded})")
    return dg.MaterializeResult(metadata=metadata)
