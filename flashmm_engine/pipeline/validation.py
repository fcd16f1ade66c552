"""Validation of a candidate on the held-out part of the training set: walk-forward prediction metrics
against the imbalance baseline and production, and a queue-aware backtest of the candidate, production and
plain AS quoting through the engine's trading core. `gate` turns the report into pass/fail decisions."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from flashmm_engine.backtest.build import BacktestOptions
from flashmm_engine.backtest.run import backtest_tables
from flashmm_engine.config.models import ModelSettings
from flashmm_engine.config.pipeline import PipelineSettings
from flashmm_engine.errors import InputError
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.models.artifact import read_manifest
from flashmm_engine.models.pipeline import evaluate_frames, sample_grid_ns
from flashmm_engine.pipeline.layout import Layout
from flashmm_engine.pipeline.segments import instrument_key
from flashmm_engine.pipeline.store import concat_tables, read_events
from flashmm_engine.pipeline.training import read_training_set

log = logging.getLogger(__name__)

VALIDATION_FILE = "validation.json"
PREDICTION_METRICS = ("log_loss", "brier")
"""Walk-forward metrics: lower is better; compared with production, else the imbalance baseline."""
BACKTEST_METRICS = ("pnl", "markout_1s_bps", "markout_5s_bps", "quote_uptime")
"""Backtest metrics: higher is better; compared with production, else plain AS."""
STRATEGIES = ("candidate", "production", "plain_as")


def validate_candidate(
    layout: Layout,
    settings: PipelineSettings,
    models: ModelSettings,
    candidate_dir: Path,
    production_dir: Path | None,
) -> dict[str, Any]:
    tset = read_training_set(layout)
    frames = tset.frames(layout)
    sample_ns = sample_grid_ns(FeatureSpec(), models)
    cut = settings.train_fraction
    walk_forward: dict[str, Any] = {}
    for market in tset.partitions:
        market_frames = [f for f in frames if instrument_key(f.market) == market]
        walk_forward[market] = _compare(candidate_dir, production_dir, market_frames, sample_ns, cut, models)
    pooled = _compare(candidate_dir, production_dir, frames, sample_ns, cut, models)
    backtests = {market: _backtests(layout, market, hours, candidate_dir, production_dir, cut)
                 for market, hours in tset.partitions.items()}  # fmt: skip
    manifest = read_manifest(candidate_dir)
    report = {
        "candidate": {
            "path": str(candidate_dir),
            "version": manifest["version"],
            "sha256": manifest["sha256"],
        },
        "production": {"path": str(production_dir), "version": read_manifest(production_dir)["version"]}
        if production_dir
        else None,
        "held_out_from_fraction": cut,
        "walk_forward": {"pooled": pooled, "markets": walk_forward},
        "backtest": backtests,
        "latency": manifest.get("export", {}),
    }
    report["gate"] = [asdict(c) for c in gate(report, settings)]
    report["passed"] = all(c["passed"] for c in report["gate"])
    layout.validation.mkdir(parents=True, exist_ok=True)
    (layout.validation / VALIDATION_FILE).write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    return report


def read_validation(layout: Layout) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads((layout.validation / VALIDATION_FILE).read_bytes())
    return result


def _compare(
    candidate_dir: Path,
    production_dir: Path | None,
    frames: list[Any],
    sample_ns: int,
    cut: float,
    models: ModelSettings,
) -> dict[str, Any]:
    """Candidate and production scored on the same held-out samples; an empty result (data shorter than
    the warm-up, nothing held out) is recorded with its reason instead of stopping the other markets."""
    out: dict[str, Any] = {}
    for who, model_dir in (("candidate", candidate_dir), ("production", production_dir)):
        if model_dir is None:
            out[who] = None
            continue
        try:
            out[who] = _summary(evaluate_frames(model_dir, frames, sample_ns, cut, models))
        except (ValueError, InputError) as exc:
            metrics = (*PREDICTION_METRICS, "accuracy")
            out[who] = {"error": str(exc), **dict.fromkeys([*metrics, *(f"baseline_{m}" for m in metrics)])}
    return out


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    """Mean over horizons of each metric, for the model and the baseline, plus the per-horizon table."""
    horizons = report["horizons"]
    out: dict[str, Any] = {"samples": report["held_out"]["samples"], "horizons": {}}
    for metric in (*PREDICTION_METRICS, "accuracy"):
        values = [h[metric] for h in horizons.values() if h.get(metric) is not None]
        base = [h[f"baseline_{metric}"] for h in horizons.values() if h.get(f"baseline_{metric}") is not None]
        out[metric] = sum(values) / len(values) if values else None
        out[f"baseline_{metric}"] = sum(base) / len(base) if base else None
    for name, h in horizons.items():
        out["horizons"][name] = {
            k: h.get(k) for k in ("n_moves", "accuracy", "log_loss", "baseline_log_loss")
        }
    return out


def _backtests(
    layout: Layout,
    market: str,
    hours: list[str],
    candidate_dir: Path,
    production_dir: Path | None,
    from_fraction: float,
) -> dict[str, Any]:
    parts = [t for h in hours if (t := read_events(layout.events(market, h))) is not None]
    if not parts:
        return {}
    tables = concat_tables(parts)
    runs: dict[str, Path | None] = {"candidate": candidate_dir, "plain_as": None}
    if production_dir is not None:
        runs["production"] = production_dir
    out: dict[str, Any] = {}
    for name, model_dir in runs.items():
        opts = BacktestOptions(strategy="mm", model_dir=model_dir, from_fraction=from_fraction)
        log.info("validation backtest %s on %s (%d hours)", name, market, len(parts))
        result = backtest_tables(tables, opts)
        out[name] = {k: result.get(k) for k in (*BACKTEST_METRICS, "fills", "max_drawdown", "decisions",
                                                "decisions_with_model", "volume", "fees")}  # fmt: skip
    return out


@dataclass(frozen=True, slots=True)
class GateCheck:
    name: str
    passed: bool
    observed: float | None
    threshold: float | None
    comparator: str
    detail: str


def gate(report: dict[str, Any], settings: PipelineSettings) -> list[GateCheck]:
    """The decisions the blocking checks show: each configured metric, drawdown and latency."""
    checks = [_metric_check(report, metric, settings.gate_margin) for metric in settings.gate_metrics]
    worst = max(
        (bt["candidate"]["max_drawdown"] for bt in report["backtest"].values() if bt.get("candidate")),
        default=0.0,
    )
    checks.append(
        GateCheck(
            "drawdown",
            worst <= settings.max_drawdown_quote,
            worst,
            settings.max_drawdown_quote,
            "limit",
            "largest candidate backtest drawdown (quote currency) across markets",
        )
    )
    latency = report["latency"]
    cpu = latency.get("latency_cpu_p99_us", latency.get("latency_p99_us"))
    checks.append(
        GateCheck(
            "latency",
            cpu is not None and cpu <= settings.latency_budget_us,
            cpu,
            settings.latency_budget_us,
            "budget",
            "single-sample inference p99 (us) measured at export",
        )
    )
    return checks


def _metric_check(report: dict[str, Any], metric: str, margin: float) -> GateCheck:
    if metric in PREDICTION_METRICS:
        pooled = report["walk_forward"]["pooled"]
        cand = pooled["candidate"][metric]
        if pooled["production"] is not None:
            other, against = pooled["production"][metric], "production"
        else:
            other, against = pooled["candidate"][f"baseline_{metric}"], "imbalance baseline"
        passed = cand is not None and other is not None and cand <= other - margin
        return GateCheck(metric, passed, cand, None if other is None else other - margin, against,
                         f"mean {metric} over horizons on held-out samples (lower is better)")  # fmt: skip
    if metric in BACKTEST_METRICS:
        totals = {name: 0.0 for name in STRATEGIES}
        has_production = any("production" in bt for bt in report["backtest"].values())
        for bt in report["backtest"].values():
            for name, result in bt.items():
                totals[name] += float(result.get(metric) or 0.0)
        against = "production" if has_production else "plain_as"
        threshold = totals[against] + margin
        return GateCheck(metric, totals["candidate"] >= threshold, totals["candidate"], threshold, against,
                         f"backtest {metric} summed over markets (higher is better)")  # fmt: skip
    raise ValueError(f"pipeline.gate_metrics: unknown metric {metric!r}; known: "
                     f"{', '.join(PREDICTION_METRICS + BACKTEST_METRICS)}")  # fmt: skip
