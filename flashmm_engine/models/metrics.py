"""Metrics per horizon, for a model and for the baseline "sign of top-of-book imbalance"."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from flashmm_engine.features.labels import DOWN, FLAT, UP

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


def horizon_report(
    probs: NDArray[Any], y: NDArray[Any], imbalance: NDArray[Any], table: NDArray[Any], horizons: list[str]
) -> dict[str, object]:
    """{"n", "horizons": {name: {accuracy, baseline_accuracy, log_loss, baseline_log_loss, brier, ...}}}."""
    base = baseline_probs(table, imbalance)
    report: dict[str, dict[str, float | int]] = {}
    for h, name in enumerate(horizons):
        report[name] = {
            "accuracy": direction_accuracy(probs[:, h], y[:, h]),
            "baseline_accuracy": baseline_accuracy(imbalance, y[:, h]),
            "log_loss": log_loss(probs[:, h], y[:, h]),
            "baseline_log_loss": log_loss(base[:, h], y[:, h]),
            "brier": brier(probs[:, h], y[:, h]),
            "baseline_brier": brier(base[:, h], y[:, h]),
            "n_moves": int((y[:, h] != FLAT).sum()),
        }
    return {"n": len(y), "horizons": report}
