"""TorchScript export with its checks: eager vs scripted parity and single-sample latency."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from numpy.typing import NDArray

from flashmm_engine.models.artifact import (
    MANIFEST_FILE,
    MODEL_FILE,
    code_version,
    sha256_file,
    write_manifest,
)
from flashmm_engine.models.latency import Latency, measure_latency

log = logging.getLogger(__name__)

PARITY_TOLERANCE = 1e-6
MANIFEST_SCHEMA = 1


class ExportError(RuntimeError):
    """The scripted model does not reproduce the eager one."""


@dataclass(frozen=True, slots=True)
class ExportReport:
    model_dir: Path
    version: str
    sha256: str
    parity_max_abs_diff: float
    latency: Latency


def new_version() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def export_model(
    model: torch.nn.Module,
    root: Path,
    name: str,
    check_inputs: NDArray[Any],
    manifest_fields: dict[str, Any],
    version: str | None = None,
) -> ExportReport:
    """Writes root/name/version/{model.pt, manifest.json}; refuses if scripted and eager outputs differ."""
    version = version or new_version()
    model_dir = root / name / version
    model_dir.mkdir(parents=True, exist_ok=False)
    try:
        return _export(model, model_dir, name, version, check_inputs, manifest_fields)
    except BaseException:
        shutil.rmtree(model_dir, ignore_errors=True)  # never leave a half-written artifact behind
        raise


def _export(
    model: torch.nn.Module,
    model_dir: Path,
    name: str,
    version: str,
    check_inputs: NDArray[Any],
    manifest_fields: dict[str, Any],
) -> ExportReport:
    model.eval()
    scripted = torch.jit.script(model)
    path = model_dir / MODEL_FILE
    scripted.save(str(path))  # type: ignore[no-untyped-call]
    loaded = torch.jit.load(str(path))  # type: ignore[no-untyped-call]
    diff = scripted_parity(model, loaded, check_inputs)
    if diff > PARITY_TOLERANCE:
        raise ExportError(f"scripted model differs from eager by {diff:.3g} > {PARITY_TOLERANCE}")
    latency = measure_latency(loaded, torch.from_numpy(check_inputs[:1]))
    sha = sha256_file(path)
    manifest = {
        **manifest_fields,
        "schema": MANIFEST_SCHEMA,
        "name": name,
        "version": version,
        "sha256": sha,
        "code_version": code_version(),
        "created_at": datetime.now(UTC).isoformat(),
        "export": {
            "parity_max_abs_diff": diff,
            "latency_p50_us": latency.p50_us,
            "latency_p99_us": latency.p99_us,
            "latency_cpu_p99_us": latency.cpu_p99_us,
        },
    }
    write_manifest(model_dir, manifest)
    log.info(
        "exported %s/%s (p99 %.0f us, parity %.2g) to %s", name, version, latency.p99_us, diff, model_dir
    )
    return ExportReport(model_dir, version, sha, diff, latency)


def scripted_parity(eager: torch.nn.Module, scripted: torch.nn.Module, inputs: NDArray[Any]) -> float:
    """Largest absolute difference between eager and scripted probabilities, batched and one by one."""
    x = torch.from_numpy(inputs)
    with torch.no_grad():
        batched = float((eager(x) - scripted(x)).abs().max()) if len(x) else 0.0
        single = max(
            (
                float((eager(x[i : i + 1]) - scripted(x[i : i + 1])).abs().max())
                for i in range(min(len(x), 64))
            ),
            default=0.0,
        )
    return max(batched, single)


__all__ = ["MANIFEST_FILE", "MODEL_FILE", "ExportError", "ExportReport", "export_model", "scripted_parity"]
