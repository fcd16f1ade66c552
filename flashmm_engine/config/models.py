"""Settings for model training, export and serving."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class ModelSettings(BaseModel):
    artifacts_dir: Path = Field(
        default=Path("models"), description="Root of models/<name>/<version>/ artifacts."
    )
    seed: int = Field(default=7, description="Training seed; the same seed and data give the same model.")
    sample_ms: int = Field(
        default=50, gt=0, description="Training sample grid in ms (must divide the 200 ms feature tick)."
    )
    max_epochs: int = Field(default=200, gt=0, description="Upper bound on training epochs.")
    patience: int = Field(
        default=20, gt=0, description="Early stopping: epochs without validation improvement."
    )
    hidden: int = Field(
        default=64, gt=0, description="Hidden width of the MLP (half of it for the seq model)."
    )
    learning_rate: float = Field(default=1e-3, gt=0, description="AdamW learning rate.")
    weight_decay: float = Field(default=1e-3, ge=0, description="AdamW weight decay.")
    seq_window: int = Field(
        default=16, ge=5, description="Feature vectors (200 ms apart) the seq model sees."
    )
    validation_fraction: float = Field(
        default=0.2,
        gt=0,
        lt=1,
        description="Last part of the training window used for early stopping + calibration.",
    )
    flat_band_ticks: float = Field(
        default=0.25, gt=0, description="Label flat band: moves up to this many ticks."
    )
    input_features: list[str] = Field(
        default_factory=list,
        description="Fixed feature names the model reads; empty (default) = chosen by forward selection "
        "over feature groups on the training window only.",
    )
    selection_folds: int = Field(
        default=2, ge=1, le=4, description="Walk-forward folds inside the training window for selection."
    )
    selection_min_gain: float = Field(
        default=1e-3, ge=0, description="Minimum inner-validation log-loss gain (nats) to add a group."
    )
    selection_max_samples: int = Field(
        default=50_000, ge=1_000, description="Rows per fold the selection probe fits on (evenly spaced)."
    )
    mirror_augment: bool = Field(
        default=True,
        description="Train on the data plus its bid/ask mirror image (with automatic selection: the "
        "starting choice, switched if the opposite scores better on the inner folds).",
    )
    residual: bool = Field(
        default=True,
        description="Model on top of the baseline: logits add to log-probabilities of the imbalance sign.",
    )
    gbdt_depth: int = Field(default=3, ge=1, le=8, description="Depth of each boosted tree (gbdt).")
    gbdt_learning_rate: float = Field(default=0.1, gt=0, le=1, description="Boosting shrinkage (gbdt).")
    gbdt_min_leaf: int = Field(default=200, ge=1, description="Minimum training samples per leaf (gbdt).")
    bootstrap_reps: int = Field(
        default=2_000, ge=100, description="Block-bootstrap replicates behind every confidence interval."
    )
    bootstrap_block_s: float = Field(
        default=10.0, gt=0, description="Block length in seconds of the time-block bootstrap."
    )
    crossval_kinds: list[str] = Field(
        default_factory=lambda: ["logreg", "mlp", "seq", "gbdt"],
        description="Model kinds `model crossval` fits on every fold.",
    )
    latency_budget_us: float = Field(default=200.0, gt=0, description="p99 single-sample inference budget.")
