"""A tiny real model for the engine benchmark: an MLP trained for a few steps on synthetic feature rows,
exported through the project's TorchScript export (parity and latency checks) and registered in production.

The benchmark runs this as its own process (`python -m flashmm_engine.engine.bench_model ROOT URL NAME
STAGE SEED`), so that training and export (autograd, the optimizer, tracing) do not count in the engine's
RSS."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from flashmm_engine.features.labels import LabelSpec
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.models.export import export_model
from flashmm_engine.models.nets import ProbabilityModel, build_network
from flashmm_engine.models.registry import ModelRegistry

TRAIN_ROWS = 4_096
TRAIN_STEPS = 60
HIDDEN = 32
SEED = 11


def export_bench_model(
    root: Path, registry_url: str, name: str = "bench", stage: str = "production", seed: int = SEED
) -> Path:
    """`stage` production: the served model; validated: a shadow challenger (another `seed`)."""
    spec, labels = FeatureSpec(), LabelSpec()
    names = spec.names()
    n_features, n_horizons = len(names), len(labels.horizons_ms)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((TRAIN_ROWS, n_features)).astype(np.float32)
    # a learnable rule: the top-of-book imbalance tells the direction at every horizon
    direction = np.digitize(x[:, names.index("imb_1")], [-0.5, 0.5])
    y = np.repeat(direction[:, None], n_horizons, axis=1)
    torch.manual_seed(seed)
    index = torch.arange(n_features)
    model = ProbabilityModel(
        build_network("mlp", n_features, n_horizons, HIDDEN),
        index,
        torch.zeros(n_features),
        torch.ones(n_features),
        n_horizons,
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model.train()
    for _ in range(TRAIN_STEPS):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model.logits(xt).reshape(-1, 3), yt.reshape(-1))
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
    metrics: dict[str, float] = {"train_loss": float(loss.item())}
    manifest = {
        "model_kind": "mlp",
        "spec_hash": spec.spec_hash(),
        "feature_spec": spec.to_json_dict(),
        "feature_names": names,
        "input_features": names,
        "input_shape": [n_features],
        "horizons": labels.horizon_names,
        "label_spec": {"horizons_ms": list(labels.horizons_ms), "flat_band_ticks": labels.flat_band_ticks},
        "training_window": {"synthetic_rows": TRAIN_ROWS, "seed": seed},
        "metrics": metrics,
    }
    report = export_model(model, root, name, x[:256], manifest)
    registry = ModelRegistry(registry_url)
    try:
        registry.register(name, report.version, str(report.model_dir), report.sha256, metrics)
        registry.promote(name, report.version, "validated")
        if stage == "production":
            registry.promote(name, report.version, "production")
    finally:
        registry.close()
    return report.model_dir


if __name__ == "__main__":
    root, url, model_name, model_stage, model_seed = sys.argv[1:6]
    export_bench_model(Path(root), url, model_name, model_stage, int(model_seed))
