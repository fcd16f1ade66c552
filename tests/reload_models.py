"""Real TorchScript artifacts for the hot-reload tests: good ones through the project's export code, and
bad ones (corrupt file, foreign feature spec, NaN output, too slow) each failing exactly one check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from flashmm_engine.features.labels import LabelSpec
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.models.artifact import MODEL_FILE, sha256_file, write_manifest
from flashmm_engine.models.export import export_model
from flashmm_engine.models.nets import ProbabilityModel, build_network
from flashmm_engine.models.registry import ModelRegistry

HIDDEN = 8
SLOW_LOOPS = 1_000
"""Iterations of the slow model's loop: tens of ms per call, far over any sane inference budget."""


def manifest_fields(spec: FeatureSpec | None = None) -> dict[str, Any]:
    spec, labels = spec or FeatureSpec(), LabelSpec()
    names = FeatureSpec().names()
    return {
        "model_kind": "mlp",
        "spec_hash": spec.spec_hash(),
        "feature_spec": spec.to_json_dict(),
        "feature_names": names,
        "input_features": names,
        "input_shape": [len(names)],
        "horizons": labels.horizon_names,
        "label_spec": {"horizons_ms": list(labels.horizons_ms), "flat_band_ticks": labels.flat_band_ticks},
    }


def _mlp(seed: int) -> nn.Module:
    n_features, n_horizons = len(FeatureSpec().names()), len(LabelSpec().horizons_ms)
    torch.manual_seed(seed)
    return ProbabilityModel(
        build_network("mlp", n_features, n_horizons, HIDDEN),
        torch.arange(n_features),
        torch.zeros(n_features),
        torch.ones(n_features),
        n_horizons,
    )


def _check_rows(seed: int) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((32, len(FeatureSpec().names()))).astype(np.float32)


def export_good(root: Path, name: str, version: str, seed: int = 1) -> Path:
    return export_model(_mlp(seed), root, name, _check_rows(seed), manifest_fields(), version).model_dir


def export_foreign_spec(root: Path, name: str, version: str) -> Path:
    """A good model trained on another feature spec (a different tick): its spec_hash is not ours."""
    fields = manifest_fields(FeatureSpec(tick_ms=100))
    return export_model(_mlp(2), root, name, _check_rows(2), fields, version).model_dir


def export_corrupt(root: Path, name: str, version: str) -> Path:
    """Exported fine, then bytes of model.pt overwritten on disk: the file no longer has its sha256."""
    model_dir = export_good(root, name, version, seed=3)
    path = model_dir / MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    return model_dir


class NanModel(nn.Module):
    def __init__(self, n_horizons: int) -> None:
        super().__init__()
        self.n_horizons = n_horizons

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((x.shape[0], self.n_horizons, 3), float("nan"))


class SlowModel(nn.Module):
    """Valid probabilities, computed after a long pointless loop."""

    def __init__(self, n_features: int, n_horizons: int, loops: int) -> None:
        super().__init__()
        self.n_horizons = n_horizons
        self.loops = loops
        self.weight = nn.Parameter(torch.eye(n_features) * 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        for _ in range(self.loops):
            y = torch.tanh(y @ self.weight)
        logits = y.sum(dim=1, keepdim=True).unsqueeze(-1).expand(x.shape[0], self.n_horizons, 3)
        return torch.softmax(logits * torch.tensor([1.0, 0.0, -1.0]), dim=-1)


def write_scripted(module: nn.Module, root: Path, name: str, version: str) -> Path:
    """TorchScript straight to disk with a complete manifest (export's own latency run would take
    minutes on the slow model, and its parity check has nothing to say about NaN)."""
    model_dir = root / name / version
    model_dir.mkdir(parents=True)
    scripted = torch.jit.script(module.eval())
    scripted.save(str(model_dir / MODEL_FILE))  # type: ignore[no-untyped-call]
    manifest = {**manifest_fields(), "name": name, "version": version}
    write_manifest(model_dir, {**manifest, "sha256": sha256_file(model_dir / MODEL_FILE)})
    return model_dir


def export_nan(root: Path, name: str, version: str) -> Path:
    return write_scripted(NanModel(len(LabelSpec().horizons_ms)), root, name, version)


def export_slow(root: Path, name: str, version: str) -> Path:
    n_features, n_horizons = len(FeatureSpec().names()), len(LabelSpec().horizons_ms)
    return write_scripted(SlowModel(n_features, n_horizons, SLOW_LOOPS), root, name, version)


def register(registry_url: str, name: str, version: str, model_dir: Path, stage: str | None = None) -> None:
    """A registry row for the artifact (sha256 from its manifest, as `model train` records it)."""
    import orjson

    sha = orjson.loads((model_dir / "manifest.json").read_bytes())["sha256"]
    registry = ModelRegistry(registry_url)
    try:
        registry.register(name, version, str(model_dir), sha, {})
        if stage is not None:
            registry.advance(name, version, stage)  # type: ignore[arg-type]
    finally:
        registry.close()


def manifest_sha(model_dir: Path) -> str:
    import orjson

    sha: str = orjson.loads((model_dir / "manifest.json").read_bytes())["sha256"]
    return sha
