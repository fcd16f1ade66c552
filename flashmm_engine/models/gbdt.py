"""Gradient-boosted trees per horizon with LightGBM, early-stopped on the validation period, on the same
standardized, clipped inputs the exported module computes; exported as a TreeEnsemble (models/trees.py).
A residual model boosts from the baseline's log-probabilities (LightGBM's init_score)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from numpy.typing import NDArray

from flashmm_engine.models.dataset import Dataset
from flashmm_engine.models.nets import N_CLASSES, ProbabilityModel
from flashmm_engine.models.trees import TreeEnsemble, ensemble_from_dumps

if TYPE_CHECKING:
    from flashmm_engine.models.train import TrainConfig, TrainResult

log = logging.getLogger(__name__)

MAX_ROUNDS = 100
EARLY_STOP_ROUNDS = 20
PARITY_TOLERANCE = 1e-4
"""LightGBM sums leaves in float64, the module in float32."""


def fit_gbdt(
    train: Dataset,
    val: Dataset,
    n_horizons: int,
    input_index: list[int],
    config: TrainConfig,
    baseline_column: int,
) -> TrainResult:
    import lightgbm

    from flashmm_engine.models.train import TrainResult, calibrate_temperature, wrap

    if train.x.ndim != 2:
        raise ValueError("gbdt reads one feature vector per sample, not a sequence")
    placeholder = wrap(torch.nn.Identity(), train, input_index, config, baseline_column)
    z_train, z_val = _inputs(placeholder, train.x), _inputs(placeholder, val.x)
    offset_train, offset_val = _offsets(placeholder, train.x), _offsets(placeholder, val.x)
    params = {
        "objective": "multiclass",
        "num_class": N_CLASSES,
        "learning_rate": config.gbdt_learning_rate,
        "max_depth": config.gbdt_depth,
        "num_leaves": 1 << config.gbdt_depth,
        "min_data_in_leaf": config.gbdt_min_leaf,
        "lambda_l2": 1.0,
        "feature_fraction": 0.8,
        "feature_fraction_seed": config.seed,
        "seed": config.seed,
        "deterministic": True,
        "num_threads": 1,
        "verbosity": -1,
    }
    dumps, rounds, best = [], [], []
    for h in range(n_horizons):
        fit_set = lightgbm.Dataset(
            z_train, train.y[:, h], init_score=offset_train[:, h].ravel(), free_raw_data=False
        )
        val_set = lightgbm.Dataset(z_val, val.y[:, h], init_score=offset_val[:, h].ravel(), reference=fit_set)
        booster = lightgbm.train(
            params,
            fit_set,
            num_boost_round=MAX_ROUNDS,
            valid_sets=[val_set],
            callbacks=[lightgbm.early_stopping(EARLY_STOP_ROUNDS, verbose=False)],
        )
        dump = booster.dump_model(num_iteration=booster.best_iteration)
        dumps.append(dump)
        rounds.append(int(booster.best_iteration))
        best.append(float(booster.best_score["valid_0"]["multi_logloss"]))
        raw = np.asarray(booster.predict(z_val[:256], num_iteration=booster.best_iteration, raw_score=True))
        _check_parity(dump, raw, z_val[:256], config.gbdt_depth)
    ensemble = ensemble_from_dumps(dumps, config.gbdt_depth)
    model = ProbabilityModel(
        ensemble,
        placeholder.input_index,
        placeholder.mean,
        placeholder.std,
        n_horizons,
        placeholder.baseline_log_table if config.residual else None,
        baseline_column,
    )
    model.eval()
    temperatures = calibrate_temperature(model, torch.from_numpy(val.x), torch.from_numpy(val.y))
    log.info("trained gbdt: rounds per horizon %s, val loss %s", rounds, [round(b, 4) for b in best])
    return TrainResult(model, max(rounds), float(np.mean(best)), temperatures)


def _inputs(model: ProbabilityModel, x: NDArray[Any]) -> NDArray[Any]:
    with torch.no_grad():
        selected = torch.index_select(torch.from_numpy(x), -1, model.input_index)
        z = torch.clamp((selected - model.mean) / model.std, -model.z_clip, model.z_clip)
    out: NDArray[Any] = z.numpy()
    return out


def _offsets(model: ProbabilityModel, x: NDArray[Any]) -> NDArray[Any]:
    """(n, H, 3) baseline log-probabilities for a residual model, zeros otherwise."""
    if not model.residual:
        return np.zeros((len(x), model.baseline_log_table.shape[0], N_CLASSES))
    with torch.no_grad():
        out: NDArray[Any] = model.baseline_offset(torch.from_numpy(x)).double().numpy()
    return out


def _check_parity(dump: dict[str, Any], raw: NDArray[Any], z: NDArray[Any], depth: int) -> None:
    single = ensemble_from_dumps([dump], depth)
    with torch.no_grad():
        ours = single(torch.from_numpy(z)).reshape(len(z), N_CLASSES).double().numpy()
    diff = float(np.abs(ours - raw).max()) if len(z) else 0.0
    if diff > PARITY_TOLERANCE:
        raise ValueError(f"tree ensemble differs from LightGBM by {diff:.3g} > {PARITY_TOLERANCE}")


__all__ = ["TreeEnsemble", "fit_gbdt"]
