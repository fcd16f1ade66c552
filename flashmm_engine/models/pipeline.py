"""Train -> calibrate -> export -> register, and evaluate: the steps Dagster and the CLI both call."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from flashmm_engine.config.models import ModelSettings
from flashmm_engine.features.batch import FeatureFrame
from flashmm_engine.features.labels import LabelSpec
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.models.bootstrap import BootstrapConfig
from flashmm_engine.models.dataset import BASELINE_FEATURE, Dataset, build_dataset, capture_frames, mirrored
from flashmm_engine.models.export import export_model
from flashmm_engine.models.holdout import Split, held_out, split_by_time
from flashmm_engine.models.loader import LoadedModel, load_model
from flashmm_engine.models.metrics import fit_baseline, horizon_report
from flashmm_engine.models.nets import ModelKind
from flashmm_engine.models.registry import ModelRegistry
from flashmm_engine.models.selection import SelectionConfig, select_features
from flashmm_engine.models.timing import PhaseTimer
from flashmm_engine.models.train import TrainConfig, TrainResult, fit, predict
from flashmm_engine.types import NS_PER_MS, NS_PER_S

log = logging.getLogger(__name__)

Market = Literal["spot", "usdm"]


def load_frames(
    paths: Sequence[Path], markets: Sequence[Market], spec: FeatureSpec, sample_ns: int
) -> list[FeatureFrame]:
    """Every capture, each of its own market, through the market-data pipeline and the features."""
    return [
        f
        for path, market in zip(paths, markets, strict=True)
        for f in capture_frames([path], market, spec, sample_ns)
    ]


def load_dataset(
    paths: Sequence[Path],
    markets: Sequence[Market],
    spec: FeatureSpec,
    label_spec: LabelSpec,
    sample_ns: int,
    window: int,
) -> Dataset:
    """Every capture pooled into one dataset, instruments kept apart."""
    frames = load_frames(paths, markets, spec, sample_ns)
    return build_dataset(frames, label_spec, window, spec.tick_ns // sample_ns)


@dataclass(frozen=True, slots=True)
class Fitted:
    result: TrainResult
    input_index: list[int]
    selection: dict[str, Any]
    config: TrainConfig


def fit_candidate(
    split: Split,
    kind: ModelKind,
    settings: ModelSettings,
    names: list[str],
    n_horizons: int,
    embargo_ns: int,
    grid_ns: int,
    inputs: tuple[list[int], dict[str, Any]] | None = None,
    residual: bool | None = None,
) -> Fitted:
    """Input selection on the training window (unless `inputs` gives its result), then fit on its
    earlier part and early-stop and calibrate on its later part: nothing here reads split.test."""
    config = train_config(kind, settings)
    if residual is not None:
        config = replace(config, residual=residual)
    input_index, selection = inputs or choose_inputs(split.train, names, settings, embargo_ns, grid_ns)
    log.info("training %s on %d samples, validating on %d", kind, len(split.fit), len(split.val))
    fit_set, val_set = split.fit, split.val
    if selection["mirror_augment"]:
        fit_set, val_set = mirrored(fit_set, names), mirrored(val_set, names)
    result = fit(fit_set, val_set, n_horizons, input_index, config, names.index(BASELINE_FEATURE))
    return Fitted(result, input_index, selection, config)


def bootstrap_config(settings: ModelSettings, grid_ns: int) -> BootstrapConfig:
    block = max(1, round(settings.bootstrap_block_s * NS_PER_S / grid_ns))
    return BootstrapConfig(reps=settings.bootstrap_reps, block_samples=block, seed=settings.seed)


def train_from_captures(
    paths: Sequence[Path],
    markets: Sequence[Market],
    kind: ModelKind,
    name: str,
    settings: ModelSettings,
    registry_url: str,
    train_fraction: float = 0.7,
) -> dict[str, Any]:
    spec, label_spec = FeatureSpec(), LabelSpec(flat_band_ticks=settings.flat_band_ticks)
    sample_ns = sample_grid_ns(spec, settings)
    window = settings.seq_window if kind == "seq" else 1
    timer = PhaseTimer()
    ds = load_dataset(paths, markets, spec, label_spec, sample_ns, window)
    timer.done("normalize+features")
    sources = [str(p) for p in paths]
    return train_dataset(
        ds,
        sources,
        "+".join(dict.fromkeys(markets)),
        kind,
        name,
        settings,
        registry_url,
        train_fraction,
        timer,
    )


def sample_grid_ns(spec: FeatureSpec, settings: ModelSettings) -> int:
    sample_ns = settings.sample_ms * NS_PER_MS
    if spec.tick_ns % sample_ns:
        raise ValueError(
            f"models.sample_ms={settings.sample_ms} must divide the {spec.tick_ms} ms feature tick"
        )
    return sample_ns


def train_dataset(
    ds: Dataset,
    sources: Sequence[str],
    market: str,
    kind: ModelKind,
    name: str,
    settings: ModelSettings,
    registry_url: str,
    train_fraction: float = 0.7,
    timer: PhaseTimer | None = None,
    shuffle_labels_seed: int | None = None,
) -> dict[str, Any]:
    """Fit, calibrate, export and register a candidate on a pooled dataset (`sources` name its inputs in
    the manifest). `shuffle_labels_seed` permutes the labels of the training window (never the held-out
    part): a deliberately worse candidate, for exercising the validation gate."""
    spec, label_spec = FeatureSpec(), LabelSpec(flat_band_ticks=settings.flat_band_ticks)
    timer = timer or PhaseTimer()
    embargo_ns = max(label_spec.horizons_ms) * NS_PER_MS
    split = split_by_time(ds, train_fraction, settings.validation_fraction, embargo_ns)
    if shuffle_labels_seed is not None:
        split = shuffled_training_labels(split, shuffle_labels_seed)
    names = spec.names()
    fitted = fit_candidate(
        split, kind, settings, names, len(label_spec.horizons_ms), embargo_ns, spec.tick_ns
    )
    timer.done("selection+training")
    table = fit_baseline(split.train.imbalance, split.train.y)
    # held-out figures on the engine's own tick grid, as `model evaluate` computes them
    test = split.test.select(split.test.ts % spec.tick_ns == 0)
    boot = bootstrap_config(settings, spec.tick_ns)
    model = fitted.result.model
    held = horizon_report(
        predict(model, test.x), test.y, test.imbalance, table, label_spec.horizon_names, boot
    )
    val = split.val.select(split.val.ts % spec.tick_ns == 0)
    validation = horizon_report(
        predict(model, val.x), val.y, val.imbalance, table, label_spec.horizon_names, boot
    )
    manifest = {
        "model_kind": kind,
        "residual": fitted.config.residual,
        "instruments": list(ds.instruments),
        "market": market,
        "spec_hash": spec.spec_hash(),
        "feature_spec": spec.to_json_dict(),
        "feature_names": names,
        "input_features": [names[i] for i in fitted.input_index],
        "input_selection": fitted.selection,
        "input_shape": list(ds.x.shape[1:]),
        "horizons": label_spec.horizon_names,
        "label_spec": asdict(label_spec),
        "training_window": _window(split.train, sources),
        "training_windows": _windows(split.train),
        "held_out_window": _window(test, sources),
        "metrics": held,
        "validation": {
            **validation,
            "epochs": fitted.result.epochs,
            "best_val_loss": fitted.result.best_val_loss,
            "temperatures": fitted.result.temperatures,
            "n_fit": len(split.fit),
            "mirror_augment": fitted.selection["mirror_augment"],
        },
        "baseline_table": table.tolist(),
        "train_config": asdict(fitted.config) | {"sample_ms": settings.sample_ms},
        "labels_shuffled_seed": shuffle_labels_seed,
    }
    check_inputs = np.ascontiguousarray(test.x[:256] if len(test) else split.val.x[:256])
    manifest["timings_s"] = timer.phases
    report = export_model(model, settings.artifacts_dir, name, check_inputs, manifest)
    timer.done("export")
    if report.latency.p99_us > settings.latency_budget_us:
        log.warning(
            "p99 latency %.0f us exceeds the %.0f us budget",
            report.latency.p99_us,
            settings.latency_budget_us,
        )
    registry = ModelRegistry(registry_url)
    try:
        registry.register(name, report.version, str(report.model_dir), report.sha256, held)
    finally:
        registry.close()
    return {
        "model_dir": str(report.model_dir),
        "version": report.version,
        "instruments": list(ds.instruments),
        **held,
    }


def shuffled_training_labels(split: Split, seed: int) -> Split:
    """The training window's labels permuted across its rows (features untouched, held-out part kept)."""
    rng = np.random.default_rng(seed)

    def shuffled(ds: Dataset) -> Dataset:
        return replace(ds, y=ds.y[rng.permutation(len(ds))])

    return Split(
        fit=shuffled(split.fit), val=shuffled(split.val), train=shuffled(split.train), test=split.test
    )


def train_config(kind: ModelKind, settings: ModelSettings) -> TrainConfig:
    return TrainConfig(
        kind=kind,
        seed=settings.seed,
        max_epochs=settings.max_epochs,
        patience=settings.patience,
        learning_rate=settings.learning_rate,
        weight_decay=settings.weight_decay,
        hidden=settings.hidden,
        residual=settings.residual,
        gbdt_depth=settings.gbdt_depth,
        gbdt_learning_rate=settings.gbdt_learning_rate,
        gbdt_min_leaf=settings.gbdt_min_leaf,
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
    model_dir: Path,
    paths: Sequence[Path],
    markets: Sequence[Market],
    from_fraction: float | None = None,
    settings: ModelSettings | None = None,
) -> dict[str, Any]:
    """Scores a model artifact on raw captures (normalized on the fly) against the baseline fitted at
    training time, on held-out samples only (see holdout.held_out), with bootstrap intervals."""
    loaded = load_model(model_dir)
    spec, label_spec = _manifest_specs(loaded.manifest)
    window = loaded.input_shape[0] if len(loaded.input_shape) == 2 else 1
    ds = load_dataset(paths, markets, spec, label_spec, spec.tick_ns, window)
    return evaluate_dataset(loaded, ds, from_fraction, settings)


def evaluate_frames(
    model_dir: Path,
    frames: Sequence[FeatureFrame],
    sample_ns: int,
    from_fraction: float | None = None,
    settings: ModelSettings | None = None,
) -> dict[str, Any]:
    """As evaluate_captures, on feature frames already computed (sampled every `sample_ns`, which must
    divide the model's feature tick); scored on the tick grid, as the engine sees it."""
    loaded = load_model(model_dir)
    spec, label_spec = _manifest_specs(loaded.manifest)
    if spec.tick_ns % sample_ns:
        raise ValueError(f"features sampled every {sample_ns} ns do not divide the {spec.tick_ns} ns tick")
    window = loaded.input_shape[0] if len(loaded.input_shape) == 2 else 1
    ds = build_dataset(frames, label_spec, window, spec.tick_ns // sample_ns)
    return evaluate_dataset(loaded, ds.select(ds.ts % spec.tick_ns == 0), from_fraction, settings)


def evaluate_dataset(
    loaded: LoadedModel,
    ds: Dataset,
    from_fraction: float | None = None,
    settings: ModelSettings | None = None,
) -> dict[str, Any]:
    settings = settings or ModelSettings()
    manifest = loaded.manifest
    spec, label_spec = _manifest_specs(manifest)
    embargo_ns = max(label_spec.horizons_ms) * NS_PER_MS
    scored = held_out(ds, manifest, embargo_ns, from_fraction)
    ds = ds.select(scored.mask)
    probs = np.concatenate([loaded.predict(chunk) for chunk in np.array_split(ds.x, max(1, len(ds) // 4096))])
    table = np.asarray(manifest["baseline_table"], dtype=np.float64)
    report = horizon_report(
        probs.astype(np.float64),
        ds.y,
        ds.imbalance,
        table,
        loaded.horizons,
        bootstrap_config(settings, spec.tick_ns),
    )
    counts = {name: int((ds.source == code).sum()) for code, name in enumerate(ds.instruments)}
    return {"held_out": {"rule": scored.rule, "samples": counts}, **report, "warnings": scored.warnings}


def _manifest_specs(manifest: dict[str, Any]) -> tuple[FeatureSpec, LabelSpec]:
    spec = FeatureSpec.from_json_dict(manifest["feature_spec"])
    label_spec = LabelSpec(
        horizons_ms=tuple(int(h) for h in manifest["label_spec"]["horizons_ms"]),
        flat_band_ticks=float(manifest["label_spec"]["flat_band_ticks"]),
    )
    return spec, label_spec


def _window(ds: Dataset, sources: Sequence[str]) -> dict[str, Any]:
    if not len(ds):
        return {"n": 0, "files": list(sources)}
    start, end = int(ds.ts.min()), int(ds.ts.max())
    return {
        "start_ns": start,
        "end_ns": end,
        "start": datetime.fromtimestamp(start / 1e9, UTC).isoformat(),
        "end": datetime.fromtimestamp(end / 1e9, UTC).isoformat(),
        "n": len(ds),
        "files": list(sources),
    }


def _windows(ds: Dataset) -> dict[str, dict[str, Any]]:
    out = {}
    for code, name in enumerate(ds.instruments):
        ts = ds.ts[ds.source == code]
        if len(ts):
            out[name] = {"start_ns": int(ts.min()), "end_ns": int(ts.max()), "n": len(ts)}
    return out
