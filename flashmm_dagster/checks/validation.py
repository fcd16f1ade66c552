"""Blocking checks of the validation gate: a failure stops exported_model and production_model in the
same run, so production stays as it was. Each shows the observed value, the threshold and what it was
compared with."""

from __future__ import annotations

from typing import Any

import dagster as dg

ASSET = "model_validation"
DRAWDOWN, LATENCY = "drawdown_within_limit", "latency_within_budget"
BEATS = "beats_comparator"


def specs() -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            BEATS,
            asset=ASSET,
            blocking=True,
            description="The candidate beats production (or, with none, the imbalance baseline / plain AS) "
            "by pipeline.gate_margin on every metric in pipeline.gate_metrics.",
        ),
        dg.AssetCheckSpec(
            DRAWDOWN,
            asset=ASSET,
            blocking=True,
            description="Backtest drawdown within pipeline.max_drawdown_quote.",
        ),
        dg.AssetCheckSpec(
            LATENCY,
            asset=ASSET,
            blocking=True,
            description="Inference p99 within pipeline.latency_budget_us.",
        ),
    ]


def run_checks(gate: list[dict[str, Any]]) -> list[dg.AssetCheckResult]:
    metrics = [g for g in gate if g["name"] not in ("drawdown", "latency")]
    by_name = {g["name"]: g for g in gate}
    return [
        _result(BEATS, metrics),
        _result(DRAWDOWN, [by_name["drawdown"]]),
        _result(LATENCY, [by_name["latency"]]),
    ]


def _result(name: str, rows: list[dict[str, Any]]) -> dg.AssetCheckResult:
    failing = [r for r in rows if not r["passed"]]
    table = "\n".join(
        ["| metric | candidate | threshold | compared with | passed |", "|---|---|---|---|---|"]
        + [
            f"| {r['name']} | {r['observed']} | {r['threshold']} | {r['comparator']} | {r['passed']} |"
            for r in rows
        ]
    )
    metadata: dict[str, Any] = {
        "gate": dg.MetadataValue.md(table),
        "failing_values": dg.MetadataValue.json(failing),
    }
    for r in rows:
        if r["observed"] is not None:
            metadata[f"{r['name']}_observed"] = float(r["observed"])
        if r["threshold"] is not None:
            metadata[f"{r['name']}_threshold"] = float(r["threshold"])
    return dg.AssetCheckResult(
        check_name=name,
        asset_key=dg.AssetKey(ASSET),
        passed=bool(rows) and not failing,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
        description="; ".join(f"{r['name']}: {r['detail']}" for r in rows),
    )
