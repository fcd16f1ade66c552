"""Metrics per horizon, for a model and for the baseline "sign of top-of-book imbalance"."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from flashmm_engine.features.labels import DOWN, FLAT, UP
from flashmm_engine.models.bootstrap import BlockBootstrap, BootstrapConfig

EPS = 1e-12
BASELINE_PRIOR = 1.0
"""Laplace pseudo-count for the baseline's conditional frequencies."""


def direction_accuracy(probs: NDArray[Any], y: NDArray[Any]) -> float:
    """Accuracy on non-flat moves: the predicted direction is up when P(up) > P(down)."""
    moved = y != FLAT
    if not moved.any():
        return float("nan")
    predicted = np.where(probs[:, UP] > probs[:, DOWN], UP, DOWN)
    return float((predicted[moved] == y[moved]).mean())


def log_loss(probs: NDArray[Any], y: NDArray[Any]) -> float:
    return float(-np.log(np.clip(probs[np.arange(len(y)), y], EPS, 1.0)).mean())


def brier(probs: NDArray[Any], y: NDArray[Any]) -> float:
    onehot = np.eye(probs.shape[1])[y]
    return float(((probs - onehot) ** 2).sum(axis=1).mean())


def imbalance_sign(imbalance: NDArray[Any]) -> NDArray[Any]:
    signs: NDArray[Any] = np.sign(imbalance).astype(np.int64) + 1  # 0: negative, 1: zero, 2: positive
    return signs


def fit_baseline(imbalance: NDArray[Any], y: NDArray[Any]) -> NDArray[Any]:
    """P(class | sign of imbalance) per horizon, shape (H, 3 signs, 3 classes), from training data."""
    signs = imbalance_sign(imbalance)
    table = np.full((y.shape[1], 3, 3), BASELINE_PRIOR)
    for h in range(y.shape[1]):
        np.add.at(table[h], (signs, y[:, h]), 1.0)
    normalized: NDArray[Any] = table / table.sum(axis=2, keepdims=True)
    return normalized


def baseline_probs(table: NDArray[Any], imbalance: NDArray[Any]) -> NDArray[Any]:
    """(n, H, 3) baseline probabilities; the direction follows the sign of the imbalance itself."""
    signs = imbalance_sign(imbalance)
    return np.transpose(table[:, signs, :], (1, 0, 2)).copy()


def baseline_accuracy(imbalance: NDArray[Any], y: NDArray[Any]) -> float:
    moved = y != FLAT
    if not moved.any():
        return float("nan")
    predicted = np.where(imbalance > 0, UP, DOWN)
    return float((predicted[moved] == y[moved]).mean())


def sample_scores(probs: NDArray[Any], y: NDArray[Any]) -> dict[str, NDArray[Any]]:
    """Per-sample log loss, Brier score, and (for accuracy on moves) whether it moved and was called right."""
    moved = y != FLAT
    predicted = np.where(probs[:, UP] > probs[:, DOWN], UP, DOWN)
    return {
        "log_loss": -np.log(np.clip(probs[np.arange(len(y)), y], EPS, 1.0)),
        "brier": ((probs - np.eye(probs.shape[1])[y]) ** 2).sum(axis=1),
        "correct": (moved & (predicted == y)).astype(np.float64),
        "moved": moved.astype(np.float64),
    }


def compare(
    model: dict[str, NDArray[Any]], baseline: dict[str, NDArray[Any]], boot: BlockBootstrap
) -> dict[str, Any]:
    """Point values, intervals, and the model-minus-baseline difference with its interval, per metric.
    `beats_baseline[m]` holds only when the difference's interval excludes 0 on the good side."""
    out: dict[str, Any] = {"n_moves": int(model["moved"].sum())}
    beats: dict[str, bool] = {}
    for metric in ("accuracy", "log_loss", "brier"):
        if metric == "accuracy":
            ours = boot.ratio(model["correct"], model["moved"])
            theirs = boot.ratio(baseline["correct"], baseline["moved"])
            moved = model["moved"].sum()
            point = model["correct"].sum() / moved if moved else float("nan")
            base_point = baseline["correct"].sum() / moved if moved else float("nan")
        else:
            ours, theirs = boot.mean(model[metric]), boot.mean(baseline[metric])
            point, base_point = float(model[metric].mean()), float(baseline[metric].mean())
        diff = boot.interval(ours - theirs)
        out |= {
            metric: float(point),
            f"{metric}_ci": boot.interval(ours),
            f"baseline_{metric}": float(base_point),
            f"baseline_{metric}_ci": boot.interval(theirs),
            f"{metric}_diff": float(point - base_point),
            f"{metric}_diff_ci": diff,
        }
        beats[metric] = bool(diff[0] > 0) if metric == "accuracy" else bool(diff[1] < 0)
    out["beats_baseline"] = beats
    return out


def horizon_report(
    probs: NDArray[Any],
    y: NDArray[Any],
    imbalance: NDArray[Any],
    table: NDArray[Any],
    horizons: list[str],
    bootstrap: BootstrapConfig | None = None,
) -> dict[str, object]:
    """{"n", "bootstrap", "horizons": {name: {accuracy (on moves), log_loss, brier, each with `_ci`, its
    baseline figures, the difference `_diff` with `_diff_ci`, beats_baseline, n_moves}}}.
    Rows must be in time order (per instrument): the bootstrap resamples blocks of consecutive rows."""
    config = bootstrap or BootstrapConfig()
    boot = BlockBootstrap(len(y), config)
    base = baseline_probs(table, imbalance)
    report: dict[str, dict[str, Any]] = {}
    for h, name in enumerate(horizons):
        ours = sample_scores(probs[:, h], y[:, h])
        theirs = sample_scores(base[:, h], y[:, h])
        # the baseline calls the direction from the imbalance itself; ties (0) call down, as before
        theirs["correct"] = ((y[:, h] != FLAT) & (np.where(imbalance > 0, UP, DOWN) == y[:, h])).astype(float)
        report[name] = compare(ours, theirs, boot)
    return {"n": len(y), "bootstrap": config.to_json_dict(), "horizons": report}
