"""Settings of the model lifecycle that Dagster orchestrates (partitions, windows, the validation gate)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

DEFAULT_MARKETS = ["binance-spot-ethusdt", "binance-usdm-ethusdt", "sim-ethusd"]
"""The shared captures' markets and the sim venue's SIM:ETHUSD, which the default engine records."""


class PipelineSettings(BaseModel):
    root: Path = Field(
        default=Path("pipeline"),
        description="Where the lifecycle keeps normalized events, features, training sets, validation "
        "results and reports (default $FLASHMM_HOME/pipeline).",
    )
    markets: list[str] = Field(
        default_factory=lambda: list(DEFAULT_MARKETS),
        min_length=1,
        description="Market partitions: each instrument's market id in lower case, `:` as `-` "
        "(`binance-spot-ethusdt`, the sim venue's `sim-ethusd`).",
    )
    start: str = Field(
        default="2024-08-08-00:00",
        pattern=r"^\d{4}-\d{2}-\d{2}-\d{2}:00$",
        description="First hourly partition (UTC, YYYY-MM-DD-HH:00).",
    )
    drop_dirs: list[Path] = Field(
        default_factory=list,
        description="Folders where users drop captures to ingest, beside the recorder's directory.",
    )
    training_window_hours: int = Field(
        default=24, ge=1, description="The training set: the most recent hours of features, per market."
    )
    train_fraction: float = Field(
        default=0.7,
        gt=0.1,
        lt=0.95,
        description="Part of each market's window trained on; the rest is held out.",
    )
    model_kind: str = Field(
        default="logreg", pattern="^(logreg|mlp|seq|gbdt)$", description="Model kind the daily retrain fits."
    )
    model_name: str = Field(default="flashmm", description="Registry name of the lifecycle's model.")
    gate_metrics: list[str] = Field(
        default_factory=lambda: ["log_loss"],
        description="Metrics the candidate must win on: log_loss, brier (walk-forward, lower is better, "
        "vs production or else the imbalance baseline), pnl, markout_1s_bps (backtest, higher is better, "
        "vs production or else plain AS).",
    )
    gate_margin: float = Field(
        default=0.0, description="How much the candidate must beat the comparator by, in the metric's units."
    )
    max_drawdown_quote: float = Field(
        default=50.0, gt=0, description="Largest backtest drawdown (quote currency) the candidate may have."
    )
    latency_budget_us: float = Field(
        default=1000.0,
        gt=0,
        description="CPU-time p99 of single-sample inference the candidate may take (thread CPU time, so a "
        "busy machine's preemption does not count).",
    )
    max_gap_s: float = Field(
        default=10.0, gt=0, description="Data-quality check: longest allowed silence inside a partition."
    )
    min_training_samples: int = Field(default=200, ge=1, description="Training-set size check.")
    min_class_fraction: float = Field(
        default=0.02, ge=0, lt=0.34, description="Training-set balance check: each direction's share."
    )
    bootstrap_min_samples: int = Field(
        default=3_600,
        ge=1,
        description="First start: the `bootstrap_lifecycle` sensor trains, validates and promotes a first "
        "model once the stored features hold this many samples (3,600 = 3 min of recording at 50 ms) and "
        "no model is in production; a failed attempt is retried once the features have grown by half.",
    )
    control_url: str = Field(
        default="http://127.0.0.1:8787", description="The engine's control API the live_trading asset reads."
    )
