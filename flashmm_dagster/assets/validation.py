"""The validation gate: walk-forward metrics and queue-aware backtests of the candidate; blocking checks."""

from pathlib import Path

import dagster as dg

from flashmm_dagster.assets.common import md_table
from flashmm_dagster.assets.training import candidate_model
from flashmm_dagster.checks import validation as gate_checks
from flashmm_dagster.resources import FlashmmResource
from flashmm_engine.pipeline.promotion import production_version
from flashmm_engine.pipeline.training import read_candidate
from flashmm_engine.pipeline.validation import validate_candidate

GROUP = "validation"


@dg.asset(group_name=GROUP, deps=[candidate_model], check_specs=gate_checks.specs(), kinds={"pytorch"})
def model_validation(flashmm: FlashmmResource) -> dg.MaterializeResult:  # type: ignore[type-arg]
    """**Validation** of the latest candidate on the held-out part of the training set:

    - walk-forward prediction metrics (log loss, Brier, accuracy on moves, per market and pooled) of the
      candidate, the imbalance baseline and the production model;
    - a queue-aware backtest of the candidate, of production and of plain Avellaneda-Stoikov quoting, through
      the engine's own trading core (quoter, risk gate, order manager) on the sim venue's matching and queue
      model.

    The blocking checks (candidate beats the comparator on `FLASHMM_PIPELINE__GATE_METRICS`, drawdown,
    latency) stop export and promotion when they fail; their metadata shows the failing values."""
    settings = flashmm.settings()
    candidate = read_candidate(flashmm.layout())
    production = production_version(flashmm.database(), settings.pipeline.model_name)
    production_dir = Path(production.path) if production is not None else None
    if production is not None and production.version == candidate["version"]:
        production_dir = None  # re-validating the production model: compare with the baselines
    report = validate_candidate(
        flashmm.layout(), settings.pipeline, settings.models, Path(candidate["model_dir"]), production_dir
    )
    pooled = report["walk_forward"]["pooled"]
    wf_rows = [
        [who, s["log_loss"], s["baseline_log_loss"], s["brier"], s["accuracy"]]
        for who, s in pooled.items()
        if s is not None
    ]
    bt_rows = [
        [market, who, r["pnl"], r["fills"], r["markout_1s_bps"], r["markout_5s_bps"], r["max_drawdown"],
         r["quote_uptime"], r["decisions_with_model"]]
        for market, runs in report["backtest"].items() for who, r in runs.items()
    ]  # fmt: skip
    return dg.MaterializeResult(
        metadata={
            "candidate_version": candidate["version"],
            "production_version": production.version if production is not None else "none",
            "passed": report["passed"],
            "walk_forward": md_table(
                ["model", "log loss", "baseline log loss", "brier", "accuracy"], wf_rows
            ),
            "backtest": md_table(
                [
                    "market",
                    "strategy",
                    "pnl",
                    "fills",
                    "markout 1s",
                    "markout 5s",
                    "max drawdown",
                    "uptime",
                    "model decisions",
                ],
                bt_rows,
            ),
            "gate": dg.MetadataValue.json(report["gate"]),
            "report_path": dg.MetadataValue.path(str(flashmm.layout().validation)),
        },
        check_results=gate_checks.run_checks(report["gate"]),
    )
