"""Bad artifacts are refused with a specific error; each case is a real TorchScript file on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.models.artifact import MODEL_FILE, read_manifest, sha256_file, write_manifest
from flashmm_engine.models.export import ExportReport
from flashmm_engine.models.loader import (
    ArtifactLoadError,
    ChecksumMismatch,
    ManifestError,
    ProbeError,
    SpecMismatch,
    load_model,
    load_model_async,
)


def reseal(model_dir: Path) -> None:
    """Record the current model.pt's sha256 in the manifest, as a careless exporter would."""
    manifest = read_manifest(model_dir)
    manifest["sha256"] = sha256_file(model_dir / MODEL_FILE)
    write_manifest(model_dir, manifest)


def test_a_good_artifact_loads_and_predicts_distributions(exported: ExportReport) -> None:
    loaded = load_model(exported.model_dir, expected_spec_hash=FeatureSpec().spec_hash())
    assert loaded.version == exported.version
    probs = loaded.predict(torch.zeros((3, *loaded.input_shape)).numpy())
    assert probs.shape == (3, 4, 3)
    assert abs(probs.sum(axis=-1) - 1).max() < 1e-5


async def test_loads_off_the_event_loop(exported: ExportReport) -> None:
    loaded = await load_model_async(exported.model_dir)
    assert loaded.version == exported.version


def test_sha256_mismatch_is_refused(exported: ExportReport) -> None:
    path = exported.model_dir / MODEL_FILE
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ChecksumMismatch, match="sha256"):
        load_model(exported.model_dir)


def test_spec_hash_mismatch_is_refused(exported: ExportReport) -> None:
    with pytest.raises(SpecMismatch, match="feature spec"):
        load_model(exported.model_dir, expected_spec_hash=FeatureSpec(tick_ms=100).spec_hash())
    manifest = read_manifest(exported.model_dir)
    manifest["spec_hash"] = "0" * 16
    write_manifest(exported.model_dir, manifest)
    with pytest.raises(SpecMismatch, match="does not match its feature_spec"):
        load_model(exported.model_dir)


def test_truncated_file_is_refused(exported: ExportReport) -> None:
    path = exported.model_dir / MODEL_FILE
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ChecksumMismatch):
        load_model(exported.model_dir)
    reseal(exported.model_dir)  # even with a matching checksum, a truncated file cannot load
    with pytest.raises(ArtifactLoadError, match="not a loadable TorchScript file"):
        load_model(exported.model_dir)


def test_a_model_that_outputs_nan_is_refused(exported: ExportReport) -> None:
    path = exported.model_dir / MODEL_FILE
    module = torch.jit.load(str(path))  # type: ignore[no-untyped-call]
    with torch.no_grad():
        next(iter(module.parameters())).fill_(float("nan"))
    module.save(str(path))
    reseal(exported.model_dir)
    with pytest.raises(ProbeError, match="NaN"):
        load_model(exported.model_dir)


def test_missing_or_incomplete_manifest_is_refused(exported: ExportReport) -> None:
    manifest = read_manifest(exported.model_dir)
    del manifest["input_shape"]
    write_manifest(exported.model_dir, manifest)
    with pytest.raises(ManifestError, match="input_shape"):
        load_model(exported.model_dir)
    (exported.model_dir / "manifest.json").unlink()
    with pytest.raises(ManifestError):
        load_model(exported.model_dir)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("feature_spec", None, "feature_spec in manifest is invalid"),  # was an AttributeError (fuzzing)
        ("feature_spec", [1, 2], "feature_spec in manifest is invalid"),
        ("input_shape", 8, "input_shape must be a list of positive integers"),
        ("input_shape", ["8"], "input_shape must be a list of positive integers"),
        ("horizons", "1s", "horizons must be a list of horizon names"),
    ],
)
def test_malformed_manifest_fields_are_refused_with_a_reason(
    exported: ExportReport, field: str, value: object, reason: str
) -> None:
    manifest = read_manifest(exported.model_dir)
    manifest[field] = value
    write_manifest(exported.model_dir, manifest)
    with pytest.raises(ManifestError, match=reason):
        load_model(exported.model_dir)
