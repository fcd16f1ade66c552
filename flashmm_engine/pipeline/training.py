"""The training set (a window of recent feature partitions) and the candidate trained on it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import orjson
import pandas as pd

from flashmm_engine.config.models import ModelSettings
from flashmm_engine.config.pipeline import PipelineSettings
from flashmm_engine.features.batch import FeatureFrame
from flashmm_engine.features.labels import LabelSpec
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.models.dataset import Dataset, build_dataset
from flashmm_engine.models.nets import ModelKind
from flashmm_engine.models.pipeline import sample_grid_ns, train_dataset
from flashmm_engine.pipeline.layout import Layout
from flashmm_engine.pipeline.store import read_frame

log = logging.getLogger(__name__)

TRAINING_SET_FILE = "training_set.json"
LABELS_FILE = "labels.parquet"
DIRECTIONS = ("down", "flat", "up")


@dataclass(frozen=True, slots=True)
class TrainingSet:
    partitions: dict[str, list[str]]  # market -> hour keys, oldest first
    path: Path

    def frames(self, layout: Layout) -> list[FeatureFrame]:
        frames = [
            read_frame(layout.features(market, hour))
            for market, hours in self.partitions.items()
            for hour in hours
        ]
        return [f for f in frames if len(f.ts)]

    def sources(self) -> list[str]:
        return [f"{market}/{hour}" for market, hours in self.partitions.items() for hour in hours]


def select_partitions(layout: Layout, markets: Sequence[str], window_hours: int) -> dict[str, list[str]]:
    """Per market, the most recent `window_hours` hours that have stored features."""
    return {m: layout.feature_hours(m)[-window_hours:] for m in markets if layout.feature_hours(m)}


def build_training_set(layout: Layout, settings: PipelineSettings, models: ModelSettings) -> dict[str, Any]:
    """Chooses the window, labels it, and writes the set's manifest plus its labels (for the checks)."""
    partitions = select_partitions(layout, settings.markets, settings.training_window_hours)
    out = layout.training_set
    out.mkdir(parents=True, exist_ok=True)
    tset = TrainingSet(partitions, out / TRAINING_SET_FILE)
    frames = tset.frames(layout)
    labels = _labels_table(frames, models)
    labels.to_parquet(out / LABELS_FILE, index=False)
    summary: dict[str, Any] = {
        "partitions": partitions,
        "partition_count": sum(len(h) for h in partitions.values()),
        "samples": len(labels),
        "ts_min": int(labels["ts"].min()) if len(labels) else None,
        "ts_max": int(labels["ts"].max()) if len(labels) else None,
        "class_balance": class_balance(labels),
        "labels_path": str(out / LABELS_FILE),
    }
    tset.path.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2))
    return summary


def read_training_set(layout: Layout) -> TrainingSet:
    path = layout.training_set / TRAINING_SET_FILE
    summary = orjson.loads(path.read_bytes())
    return TrainingSet({m: list(h) for m, h in summary["partitions"].items()}, path)


def _labels_table(frames: Sequence[FeatureFrame], models: ModelSettings) -> pd.DataFrame:
    label_spec = LabelSpec(flat_band_ticks=models.flat_band_ticks)
    columns = ["ts", "instrument", *[f"y_{h}" for h in label_spec.horizon_names]]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in columns})
    try:
        ds = dataset_of(frames, models)
    except ValueError:  # every frame shorter than the warm-up: no labelled sample
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in columns})
    table = pd.DataFrame({"ts": ds.ts, "instrument": np.asarray(ds.instruments, dtype=object)[ds.source]})
    for i, name in enumerate(label_spec.horizon_names):
        table[f"y_{name}"] = ds.y[:, i]
    return table


def dataset_of(frames: Sequence[FeatureFrame], models: ModelSettings, window: int = 1) -> Dataset:
    spec = FeatureSpec()
    sample_ns = sample_grid_ns(spec, models)
    label_spec = LabelSpec(flat_band_ticks=models.flat_band_ticks)
    return build_dataset(frames, label_spec, window, spec.tick_ns // sample_ns)


def class_balance(labels: pd.DataFrame) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for column in (c for c in labels.columns if c.startswith("y_")):
        counts = labels[column].value_counts(normalize=True)
        out[column[2:]] = {d: float(counts.get(i, 0.0)) for i, d in enumerate(DIRECTIONS)}
    return out


def train_candidate(
    layout: Layout,
    settings: PipelineSettings,
    models: ModelSettings,
    registry_url: str,
    shuffle_labels_seed: int | None = None,
) -> dict[str, Any]:
    """Train on the stored training set, export TorchScript and register a candidate (engine pipeline)."""
    tset = read_training_set(layout)
    frames = tset.frames(layout)
    if not frames:
        raise ValueError("the training set holds no feature samples: ingest and compute features first")
    kind = cast("ModelKind", settings.model_kind)
    window = models.seq_window if kind == "seq" else 1
    ds = dataset_of(frames, models, window)
    result = train_dataset(
        ds,
        tset.sources(),
        "+".join(tset.partitions),
        kind,
        settings.model_name,
        models,
        registry_url,
        settings.train_fraction,
        shuffle_labels_seed=shuffle_labels_seed,
    )
    pointer = {"name": settings.model_name, "version": result["version"], "model_dir": result["model_dir"]}
    layout.candidate.write_bytes(orjson.dumps(pointer))
    return result


def read_candidate(layout: Layout) -> dict[str, str]:
    """The latest candidate the lifecycle trained: {name, version, model_dir}."""
    if not layout.candidate.is_file():
        raise ValueError(f"no candidate trained yet ({layout.candidate} is missing)")
    pointer: dict[str, str] = orjson.loads(layout.candidate.read_bytes())
    return pointer
