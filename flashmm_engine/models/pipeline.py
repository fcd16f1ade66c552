"""Train -> calibrate -> export -> register, and evaluate: the steps Dagster and the CLI both call."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from flashmm_engine.config.models import ModelSettings
from flashmm_engine.features.labels import LabelSpec
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.models.dataset import Dataset, build_dataset, capture_frames, mirrored, time_cut
from flashmm_engine.models.export import export_model
from flashmm_engine.models.loader import load_model
from flashmm_engine.models.metrics import fit_baseline, horizon_report
from flashmm_engine.models.nets import ModelKind
from flashmm_engine.models.registry import ModelRegistry
from flashmm_engine.models.selection import SelectionConfig, select_features
from flashmm_engine.models.timing import PhaseTimer
from flashmm_engine.models.train import TrainConfig, fit, predict
from flashmm_engine.types import NS_PER_MS

log = logging.getLogger(__name__)

Market = Literal["spot", "usdm"]


@dataclass(frozen=True, slots=True)
class Split:
    fit: Dataset
    val: Dataset
    train: Dataset
    test: Dataset


def split_by_time(ds: Dataset, train_fraction: float, val_fraction: float, embargo_ns: int) -> Split:
    """train = [start, cut), test = [cut, end]; inside train, fit precedes val. Each earlier part stops
    `embargo_ns` (the longest label horizon) before the next begins, so no label looks into it."""
    cut = time_cut(ds.ts, train_fraction)
    train = ds.select(ds.ts < cut - embargo_ns)
    val_cut = time_cut(train.ts, 1 - val_fraction)
    return Split(
        fit=train.select(train.ts < val_cut - embargo_ns),
        val=train.select(train.ts >= val_cut),
        train=train,
        test=ds.select(ds.ts >= cut),
    )


def train_from_captures(
    paths: Sequence[Path],
    market: Market,
    kind: ModelKind,
    name: str,
    settings: ModelSettings,
    registry_url: str,
    train_fraction: float = 0.7,
) -> dict[str, Any]:
    spec, label_spec = FeatureSpec(), LabelSpec(flat_band_ticks=settings.flat_band_ticks)
    sample_ns = settings.sample_ms * NS_PER_MS
    if spec.tick_ns % sample_ns:
        raise ValueError(
            f"models.sample_ms={settings.sample_ms} must divide the {spec.tick_ms} ms feature tick"
        )
    window = settings.seq_window if kind == "seq" else 1
    timer = PhaseTimer()
    frames = capture_frames(paths, market, spec, sample_ns)
    ds = build_dataset(frames, label_spec, window, spec.tick_ns // sample_ns)
    timer.done("normalize+features")
    embargo_ns = max(label_spec.horizons_ms) * NS_PER_MS
    split = split_by_time(ds, train_fraction, settings.validation_fraction, embargo_ns)
    config = train_config(kind, settings)
    names = spec.names()
    input_index, selection = choose_inputs(split.train, names, settings, embargo_ns, spec.tick_ns)
    timer.done("selection")
    log.info("training %s on %d samples, validating on %d", kind, len(split.fit), len(split.val))
    fit_set, val_set = split.fit, split.val
    if selection["mirror_augment"]:
        fit_set, val_set = mirrored(fit_set, names), mirrored(val_set, names)
    result = fit(fit_set, val_set, len(label_spec.horizons_ms), input_index, config)
    timer.done("training")
    table = fit_baseline(split.train.imbalance, split.train.y)
    # held-out figures on the engine's own tick grid, as `model evaluate` computes them
    test = split.test.select(split.test.ts % spec.tick_ns == 0)
    held_out = horizon_report(
        predict(result.model, test.x), test.y, test.imbalance, table, label_spec.horizon_names
    )
    validation = horizon_report(
        predict(result.model, split.val.x), split.val.y, split.val.imbalance, table, label_spec.horizon_names
    )
    manifest = {
        "model_kind": kind,
        "market": market,
        "spec_hash": spec.spec_hash(),
        "feature_spec": spec.to_json_dict(),
        "feature_names": names,
        "input_features": [names[i] for i in input_index],
        "input_selection": selection,
        "input_shape": list(ds.x.shape[1:]),
        "horizons": label_spec.horizon_names,
        "label_spec": asdict(label_spec),
        "training_window": _window(split.train, paths),
        "held_out_window": _window(test, paths),
        "metrics": held_out,
        "validation": {
            **validation,
            "epochs": result.epochs,
            "best_val_loss": result.best_val_loss,
            "temperatures": result.temperatures,
            "n_fit": len(split.fit),
            "mirror_augment": selection["mirror_augment"],
        },
        "baseline_table": table.tolist(),
        "train_config": asdict(config) | {"sample_ms": settings.sample_ms},
    }
    check_inputs = np.ascontiguousarray(test.x[:256] if len(test) else split.val.x[:256])
    manifest["timings_s"] = timer.phases
    report = export_model(result.model, settings.artifacts_dir, name, check_inputs, manifest)
    timer.done("export")
    if report.latency.p99_us > settings.latency_budget_us:
        log.warning(
            "p99 latency %.0f us exceeds the %.0f us budget",
            report.latency.p99_us,
            settings.latency_budget_us,
        )
    registry = ModelRegistry(registry_url)
    try:
        registry.register(name, report.version, str(report.model_dir), report.sha256, held_out)
    finally:
        registry.close()
    return {"model_dir": str(report.model_dir), "version": report.version, **held_out}


def train_config(kind: ModelKind, settings: ModelSettings) -> TrainConfig:
    return TrainConfig(
        kind=kind,
        seed=settings.seed,
        max_epochs=settings.max_epochs,
        patience=settings.patience,
        learning_rate=settings.learning_rate,
        weight_decay=settings.weight_decay,
        hidden=settings.hidden,
    )


def choose_inputs(
    train: Dataset, names: list[str], settings: ModelSettings, embargo_ns: int, grid_ns: int
) -> tuple[list[int], dict[str, Any]]:
    """The feature columns the model reads: a fixed list from settings, or (default) chosen by forward
    selection on the training window only. Returns the indices and the manifest's record of the choice."""
    if settings.input_features:
        unknown = sorted(set(settings.input_features) - set(names))
        if unknown:
            raise ValueError(f"models.input_features: unknown features {unknown}")
        return [names.index(n) for n in settings.input_features], {
            "method": "fixed by settings (models.input_features)",
            "features": list(settings.input_features),
            "mirror_augment": settings.mirror_augment,
        }
    config = SelectionConfig(
        folds=settings.selection_folds,
        fold_fraction=settings.validation_fraction,
        min_gain=settings.selection_min_gain,
        max_samples=settings.selection_max_samples,
        mirror_augment=settings.mirror_augment,
        grid_ns=grid_ns,
    )
    selection = select_features(train, names, config, embargo_ns)
    log.info("selected groups %s (%d features)", selection.groups, len(selection.features))
    return [names.index(n) for n in selection.features], selection.to_manifest(config)


def evaluate_captures(
    model_dir: Path, paths: Sequence[Path], market: Market, from_fraction: float = 0.0
) -> dict[str, Any]:
    """Scores a model artifact on raw captures (normalized on the fly), optionally only the samples after
    `from_fraction` of the data's time span, against the baseline fitted at training time."""
    loaded = load_model(model_dir)
    manifest = loaded.manifest
    spec = FeatureSpec.from_json_dict(manifest["feature_spec"])
    label_spec = LabelSpec(
        horizons_ms=tuple(int(h) for h in manifest["label_spec"]["horizons_ms"]),
        flat_band_ticks=float(manifest["label_spec"]["flat_band_ticks"]),
    )
    window = loaded.input_shape[0] if len(loaded.input_shape) == 2 else 1
    ds = build_dataset(capture_frames(paths, market, spec, spec.tick_ns), label_spec, window, 1)
    ds = ds.select(ds.ts >= time_cut(ds.ts, from_fraction))
    probs = np.concatenate([loaded.predict(chunk) for chunk in np.array_split(ds.x, max(1, len(ds) // 4096))])
    table = np.asarray(manifest["baseline_table"], dtype=np.float64)
    return horizon_report(probs.astype(np.float64), ds.y, ds.imbalance, table, loaded.horizons)


def _window(ds: Dataset, paths: Sequence[Path]) -> dict[str, Any]:
    if not len(ds):
        return {"n": 0, "files": [str(p) for p in paths]}
    start, end = int(ds.ts[0]), int(ds.ts[-1])
    return {
        "start_ns": start,
        "end_ns": end,
        "start": datetime.fromtimestamp(start / 1e9, UTC).isoformat(),
        "end": datetime.fromtimestamp(end / 1e9, UTC).isoformat(),
        "n": len(ds),
        "files": [str(p) for p in paths],
    }
