"""The exported artifact verified as the engine will load it: loader checks, parity, latency."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from flashmm_engine.models.export import PARITY_TOLERANCE
from flashmm_engine.models.latency import Latency, measure_latency
from flashmm_engine.models.loader import load_model

PROBE_SEED = 11
PROBE_ROWS = 64


@dataclass(frozen=True, slots=True)
class ExportCheck:
    sha256: str
    export_parity: float
    reload_parity: float
    tolerance: float
    latency: Latency

    @property
    def parity_ok(self) -> bool:
        return self.export_parity <= self.tolerance and self.reload_parity <= self.tolerance


def verify_export(model_dir: Path) -> ExportCheck:
    """Loads twice through the engine's loader (refusing as the engine would), compares the two loads on a
    seeded probe, and measures single-sample latency on the loaded module."""
    first, second = load_model(model_dir), load_model(model_dir)
    shape = (PROBE_ROWS, *first.input_shape)
    probe = np.random.default_rng(PROBE_SEED).standard_normal(shape).astype(np.float32)
    reload_diff = float(np.abs(first.predict(probe) - second.predict(probe)).max())
    export = first.manifest.get("export", {})
    latency = measure_latency(first.module, torch.from_numpy(probe[:1]))
    return ExportCheck(
        sha256=str(first.manifest["sha256"]),
        export_parity=float(export.get("parity_max_abs_diff", float("inf"))),
        reload_parity=reload_diff,
        tolerance=PARITY_TOLERANCE,
        latency=latency,
    )
