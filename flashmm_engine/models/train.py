"""The training loop: deterministic given a seed, early stopping on a later validation period, then
temperature scaling on that same period. Samples are never shuffled across the time split."""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from flashmm_engine.models.dataset import Dataset
from flashmm_engine.models.metrics import fit_baseline
from flashmm_engine.models.nets import N_CLASSES, ModelKind, ProbabilityModel, build_network
from flashmm_engine.models.selection import single_thread

log = logging.getLogger(__name__)

TEMPERATURE_GRID = np.exp(np.linspace(np.log(0.25), np.log(4.0), 97))
STD_FLOOR = 1e-3
PROGRESS_EVERY_EPOCHS = 10
PROGRESS_INTERVAL_S = 15.0
"""On a full day an epoch takes seconds: progress is also logged whenever this much time has passed."""


@dataclass(frozen=True, slots=True)
class TrainConfig:
    kind: ModelKind = "mlp"
    seed: int = 7
    max_epochs: int = 200
    patience: int = 20
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 1e-3
    hidden: int = 64
    residual: bool = True
    """Model on top of the baseline: the network's logits add to its log-probabilities."""
    gbdt_depth: int = 3
    gbdt_learning_rate: float = 0.1
    gbdt_min_leaf: int = 200


@dataclass(frozen=True, slots=True)
class TrainResult:
    model: ProbabilityModel
    epochs: int
    best_val_loss: float
    temperatures: list[float]


def fit(
    train: Dataset,
    val: Dataset,
    n_horizons: int,
    input_index: list[int],
    config: TrainConfig,
    baseline_column: int = 0,
) -> TrainResult:
    """Trains on `train` (features: the full spec vector), reading only the `input_index` features; a
    residual model also reads column `baseline_column` (top-of-book imbalance) for its baseline offset."""
    with single_thread():  # small batches: on a shared machine extra threads only contend
        if config.kind == "gbdt":
            from flashmm_engine.models.gbdt import fit_gbdt

            return fit_gbdt(train, val, n_horizons, input_index, config, baseline_column)
        return _fit_network(train, val, n_horizons, input_index, config, baseline_column)


def _fit_network(
    train: Dataset,
    val: Dataset,
    n_horizons: int,
    input_index: list[int],
    config: TrainConfig,
    baseline_column: int,
) -> TrainResult:
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    x_train, y_train = torch.from_numpy(train.x), torch.from_numpy(train.y)
    x_val, y_val = torch.from_numpy(val.x), torch.from_numpy(val.y)
    network = build_network(config.kind, len(input_index), n_horizons, config.hidden)
    model = wrap(network, train, input_index, config, baseline_column)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    loss_fn = nn.CrossEntropyLoss()
    best_loss, best_state, best_epoch, epoch = float("inf"), copy.deepcopy(model.state_dict()), 0, 0
    last_progress = time.monotonic()
    for epoch in range(1, config.max_epochs + 1):
        model.train()
        # shuffling inside the training period is fine: the split itself is by time
        order = torch.randperm(len(x_train), generator=generator)
        for start in range(0, len(order), config.batch_size):
            batch = order[start : start + config.batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model.logits(x_train[batch]).reshape(-1, N_CLASSES), y_train[batch].reshape(-1))
            loss.backward()
            optimizer.step()
        val_loss = _loss(model, x_val, y_val, loss_fn)
        if epoch % PROGRESS_EVERY_EPOCHS == 0 or time.monotonic() - last_progress >= PROGRESS_INTERVAL_S:
            last_progress = time.monotonic()
            log.info(
                "epoch %d: validation loss %.4f (best %.4f at %d)", epoch, val_loss, best_loss, best_epoch
            )
        if val_loss < best_loss - 1e-6:
            best_loss, best_state, best_epoch = val_loss, copy.deepcopy(model.state_dict()), epoch
        elif epoch - best_epoch >= config.patience:
            break
    model.load_state_dict(best_state)
    model.eval()
    temperatures = calibrate_temperature(model, x_val, y_val)
    log.info("trained %s: %d epochs, best at %d, val loss %.4f", config.kind, epoch, best_epoch, best_loss)
    return TrainResult(model, epoch, best_loss, temperatures)


def wrap(
    network: nn.Module, train: Dataset, input_index: list[int], config: TrainConfig, baseline_column: int
) -> ProbabilityModel:
    """The exported module around a network: standardization from `train`, and for a residual model the
    baseline's log-probabilities fitted on `train`."""
    index = torch.tensor(input_index, dtype=torch.long)
    flat = torch.from_numpy(train.x).index_select(-1, index).reshape(-1, len(input_index))
    mean, std = flat.mean(dim=0), flat.std(dim=0).clamp_min(STD_FLOOR)
    n_horizons = train.y.shape[1]
    table = None
    if config.residual:
        table = torch.from_numpy(np.log(fit_baseline(train.imbalance, train.y)))
    return ProbabilityModel(network, index, mean, std, n_horizons, table, baseline_column)


def _loss(model: ProbabilityModel, x: torch.Tensor, y: torch.Tensor, loss_fn: nn.Module) -> float:
    model.eval()
    with torch.no_grad():
        return float(loss_fn(model.logits(x).reshape(-1, N_CLASSES), y.reshape(-1)))


def calibrate_temperature(model: ProbabilityModel, x: torch.Tensor, y: torch.Tensor) -> list[float]:
    """Per horizon, the temperature minimising validation log loss (a 1-D grid search: exact and stable)."""
    with torch.no_grad():
        logits = model.logits(x).double().numpy()
    temperatures = []
    for h in range(logits.shape[1]):
        scaled = logits[None, :, h, :] / TEMPERATURE_GRID[:, None, None]
        scaled -= scaled.max(axis=2, keepdims=True)
        log_probs = scaled - np.log(np.exp(scaled).sum(axis=2, keepdims=True))
        losses = -log_probs[:, np.arange(len(y)), y[:, h].numpy()].mean(axis=1)
        temperatures.append(float(TEMPERATURE_GRID[int(np.argmin(losses))]))
    model.set_temperature(temperatures)
    return temperatures


def predict(model: torch.nn.Module, x: NDArray[Any], batch_size: int = 4096) -> NDArray[Any]:
    with torch.no_grad():
        parts = [
            model(torch.from_numpy(chunk)).numpy()
            for chunk in np.array_split(x, max(1, len(x) // batch_size))
        ]
    probs: NDArray[Any] = np.concatenate(parts).astype(np.float64)
    return probs
