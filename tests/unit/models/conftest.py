"""A real (tiny) training set from the spot fixture slice, and real exported TorchScript artifacts."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from flashmm_engine.features.labels import LabelSpec
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.models.dataset import Dataset, build_dataset, capture_frames
from flashmm_engine.models.export import ExportReport, export_model
from flashmm_engine.models.nets import ModelKind, ProbabilityModel
from flashmm_engine.models.train import TrainConfig, TrainResult, fit

SLICE = "spot_ethusdt_slice.raw.gz"
INPUTS = ["imb_1", "imb_3", "imb_5", "microprice_offset_spread"]


@pytest.fixture(scope="session")
def slice_path(fixtures_dir: Path) -> Path:
    return fixtures_dir / "binance" / SLICE


@pytest.fixture(scope="session")
def slice_frames(slice_path: Path) -> list:  # type: ignore[type-arg]
    return capture_frames([slice_path], "spot", FeatureSpec(), FeatureSpec().tick_ns)


@pytest.fixture(scope="session")
def slice_dataset(slice_frames: list) -> Dataset:  # type: ignore[type-arg]
    return build_dataset(slice_frames, LabelSpec())


def train_small(ds: Dataset, kind: ModelKind = "mlp", seed: int = 7, epochs: int = 3) -> TrainResult:
    names = FeatureSpec().names()
    half = len(ds) // 2
    fit_set, val_set = ds.select(np.arange(len(ds)) < half), ds.select(np.arange(len(ds)) >= half)
    config = TrainConfig(kind=kind, seed=seed, max_epochs=epochs, patience=epochs)
    return fit(fit_set, val_set, 4, [names.index(n) for n in INPUTS], config)


def export_small(root: Path, ds: Dataset, kind: ModelKind = "mlp") -> tuple[ExportReport, ProbabilityModel]:
    spec = FeatureSpec()
    result = train_small(ds, kind)
    manifest = {
        "spec_hash": spec.spec_hash(),
        "feature_spec": spec.to_json_dict(),
        "input_shape": list(ds.x.shape[1:]),
        "horizons": LabelSpec().horizon_names,
        "training_window": {"start_ns": int(ds.ts[0]), "end_ns": int(ds.ts[-1])},
        "metrics": {},
    }
    report = export_model(result.model, root, f"test-{kind}", np.ascontiguousarray(ds.x[:64]), manifest)
    return report, result.model


@pytest.fixture(scope="session")
def exported_once(tmp_path_factory: pytest.TempPathFactory, slice_dataset: Dataset) -> ExportReport:
    return export_small(tmp_path_factory.mktemp("models"), slice_dataset)[0]


@pytest.fixture
def exported(tmp_path: Path, exported_once: ExportReport) -> ExportReport:
    """A private copy of one real exported artifact, for a test to damage."""
    model_dir = tmp_path / exported_once.version
    shutil.copytree(exported_once.model_dir, model_dir)
    return dataclasses.replace(exported_once, model_dir=model_dir)
