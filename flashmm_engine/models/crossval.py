"""Leave-one-instrument-out: for each instrument, every candidate model is trained on the other
instruments (their training windows) and scored on this one after the same time cut, so the score is
both out-of-instrument and out-of-time. The model reported as chosen is picked per fold by its log
loss on the training instruments' own validation period: the held-out instrument never chooses."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from flashmm_engine.config.models import ModelSettings
from flashmm_engine.errors import InputError
from flashmm_engine.features.labels import LabelSpec
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.features.batch import FeatureFrame
from flashmm_engine.models.dataset import Dataset, build_dataset
from flashmm_engine.models.holdout import Split, split_by_time
from flashmm_engine.models.metrics import fit_baseline, horizon_report
from flashmm_engine.models.nets import MODEL_KINDS, ModelKind
from flashmm_engine.models.pipeline import (
    Market,
    bootstrap_config,
    choose_inputs,
    fit_candidate,
    load_frames,
)
from flashmm_engine.models.train import predict
from flashmm_engine.types import NS_PER_MS

log = logging.getLogger(__name__)

PROTOCOL = (
    "leave-one-instrument-out: train on the other instruments before the time cut, score the held-out "
    "instrument after it; model chosen per fold by inner validation log loss"
)
TABLE_METRICS = ("accuracy", "log_loss", "brier")


def candidate_names(kinds: Sequence[str]) -> list[tuple[str, ModelKind, bool]]:
    unknown = sorted(set(kinds) - set(MODEL_KINDS))
    if unknown:
        raise InputError(f"unknown model kinds {unknown}; expected some of {list(MODEL_KINDS)}")
    out: list[tuple[str, ModelKind, bool]] = []
    for kind in MODEL_KINDS:
        if kind in kinds:
            out += [(f"{kind}+residual", kind, True), (kind, kind, False)]
    return out


def crossval(
    paths: Sequence[Path],
    markets: Sequence[Market],
    kinds: Sequence[str],
    settings: ModelSettings,
    train_fraction: float = 0.7,
) -> dict[str, Any]:
    spec = FeatureSpec()
    frames = load_frames(paths, markets, spec, settings.sample_ms * NS_PER_MS)
    return crossval_frames(frames, kinds, settings, train_fraction)


def crossval_frames(
    frames: Sequence[FeatureFrame], kinds: Sequence[str], settings: ModelSettings, train_fraction: float
) -> dict[str, Any]:
    candidates = candidate_names(kinds)
    spec, label_spec = FeatureSpec(), LabelSpec(flat_band_ticks=settings.flat_band_ticks)
    stride = spec.tick_ns // (settings.sample_ms * NS_PER_MS)
    flat = build_dataset(frames, label_spec, 1, stride)
    if len(flat.instruments) < 2:
        raise InputError(
            "leave-one-instrument-out needs captures of two or more instruments; "
            f"found {list(flat.instruments)}"
        )
    windowed = {1: flat}
    if any(kind == "seq" for _, kind, _ in candidates):
        windowed[settings.seq_window] = build_dataset(frames, label_spec, settings.seq_window, stride)
    folds = [
        _fold(name, windowed, candidates, settings, spec, label_spec, train_fraction)
        for name in flat.instruments
    ]
    return {
        "protocol": PROTOCOL,
        "instruments": list(flat.instruments),
        "train_fraction": train_fraction,
        "bootstrap": bootstrap_config(settings, spec.tick_ns).to_json_dict(),
        "table": [row for fold in folds for row in _rows(fold)],
        "folds": folds,
    }


def _fold(
    held_out: str,
    windowed: dict[int, Dataset],
    candidates: list[tuple[str, ModelKind, bool]],
    settings: ModelSettings,
    spec: FeatureSpec,
    label_spec: LabelSpec,
    train_fraction: float,
) -> dict[str, Any]:
    embargo_ns = max(label_spec.horizons_ms) * NS_PER_MS
    names, horizons = spec.names(), label_spec.horizon_names
    others = [n for n in windowed[1].instruments if n != held_out]
    log.info("fold: hold out %s, train on %s", held_out, others)
    splits = {
        w: _fold_split(ds, others, held_out, train_fraction, settings, embargo_ns)
        for w, ds in windowed.items()
    }
    train_split, test = splits[1]
    inputs = choose_inputs(train_split.train, names, settings, embargo_ns, spec.tick_ns)
    table = fit_baseline(train_split.train.imbalance, train_split.train.y)
    boot = bootstrap_config(settings, spec.tick_ns)
    models: dict[str, Any] = {}
    for label, kind, residual in candidates:
        split, test = splits[settings.seq_window if kind == "seq" else 1]
        fitted = fit_candidate(
            split, kind, settings, names, len(horizons), embargo_ns, spec.tick_ns, inputs, residual
        )
        model = fitted.result.model
        val = split.val.select(split.val.ts % spec.tick_ns == 0)
        inner = horizon_report(predict(model, val.x), val.y, val.imbalance, table, horizons, boot)
        inner_loss = float(np.mean([m["log_loss"] for m in inner["horizons"].values()]))  # type: ignore[attr-defined]
        report = horizon_report(predict(model, test.x), test.y, test.imbalance, table, horizons, boot)
        models[label] = {"inner_val_log_loss": inner_loss, "epochs": fitted.result.epochs, **report}
        log.info("fold %s: %s inner val %.4f", held_out, label, inner_loss)
    chosen = min(models, key=lambda m: models[m]["inner_val_log_loss"])
    return {
        "held_out": held_out,
        "train_instruments": others,
        "input_features": inputs[1]["features"],
        "n_train": len(train_split.train),
        "n_test": len(splits[1][1]),
        "chosen": chosen,
        "models": models,
    }


def _fold_split(
    ds: Dataset,
    others: list[str],
    held_out: str,
    train_fraction: float,
    settings: ModelSettings,
    embargo_ns: int,
) -> tuple[Split, Dataset]:
    train = split_by_time(
        ds.select(ds.instrument_mask(others)), train_fraction, settings.validation_fraction, embargo_ns
    )
    target = ds.select(ds.instrument_mask([held_out]))
    test = target.select(target.ts >= target.per_instrument_cut(train_fraction))
    grid_ns = FeatureSpec().tick_ns
    return train, test.select(test.ts % grid_ns == 0)


def _rows(fold: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for label, report in fold["models"].items():
        for horizon, figures in report["horizons"].items():
            row: dict[str, Any] = {
                "held_out": fold["held_out"],
                "model": label,
                "chosen": label == fold["chosen"],
                "horizon": horizon,
                "n_moves": figures["n_moves"],
            }
            for metric in TABLE_METRICS:
                row |= {
                    metric: figures[metric],
                    f"baseline_{metric}": figures[f"baseline_{metric}"],
                    f"{metric}_diff_ci": figures[f"{metric}_diff_ci"],
                }
            row["beats_baseline"] = figures["beats_baseline"]
            rows.append(row)
    return rows
