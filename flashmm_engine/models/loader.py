"""Loading a model artifact for serving: every check passes or the model is refused with a specific error.

`load_model` is synchronous and touches no shared state, so the engine runs it off the event loop
(`load_model_async`) and swaps the returned object in between quote cycles.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.models.artifact import MODEL_FILE, read_manifest, sha256_file

log = logging.getLogger(__name__)

WARMUP_CALLS = 50
PROBE_SEED = 20240808
PROBE_ROWS = 8
PROB_SUM_TOLERANCE = 1e-4
WARMUP_MAX_NS = 1_000_000_000
"""Warm-up stops early after this long: a model this slow is refused by the latency check anyway."""
LATENCY_QUANTILE = 0.99


class ModelRefused(RuntimeError):
    """Base class: the artifact must not be served."""


class ManifestError(ModelRefused):
    """manifest.json is missing, unreadable or incomplete."""


class ChecksumMismatch(ModelRefused):
    """model.pt does not have the sha256 recorded in the manifest."""


class SpecMismatch(ModelRefused):
    """The model was trained on features other than the ones this process computes."""


class ArtifactLoadError(ModelRefused):
    """model.pt is not a loadable TorchScript file."""


class ProbeError(ModelRefused):
    """The model's output on the fixed probe is malformed, non-finite, or not a distribution."""


class TooSlow(ModelRefused):
    """The model's single-sample p99 latency is over the inference budget."""


@dataclass(frozen=True, slots=True)
class LatencyCheck:
    """p99 of `calls` single-sample calls must be within `budget_ns`."""

    budget_ns: int
    calls: int


@dataclass(frozen=True, slots=True)
class LoadedModel:
    module: torch.jit.ScriptModule
    manifest: dict[str, Any]
    input_shape: tuple[int, ...]
    horizons: list[str]

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    def predict(self, x: NDArray[Any]) -> NDArray[Any]:
        with torch.no_grad():
            out: torch.Tensor = self.module(torch.from_numpy(np.asarray(x, dtype=np.float32)))
        return out.numpy()


def load_model(
    model_dir: Path,
    expected_spec_hash: str | None = None,
    expected_sha256: str | None = None,
    latency: LatencyCheck | None = None,
) -> LoadedModel:
    """`expected_sha256`: what the registry recorded; `latency`: refuse a model slower than the budget."""
    manifest = _manifest(model_dir)
    path = model_dir / MODEL_FILE
    if not path.is_file():
        raise ArtifactLoadError(f"{path}: missing")
    actual = sha256_file(path)
    if actual != manifest["sha256"]:
        raise ChecksumMismatch(f"{path}: sha256 {actual} != manifest {manifest['sha256']}")
    if expected_sha256 is not None and actual != expected_sha256:
        raise ChecksumMismatch(f"{path}: sha256 {actual} != registry {expected_sha256}")
    _check_spec(manifest, expected_spec_hash)
    try:
        module = torch.jit.load(str(path), map_location="cpu")  # type: ignore[no-untyped-call]
    except (RuntimeError, ValueError) as exc:
        raise ArtifactLoadError(f"{path}: not a loadable TorchScript file ({exc})") from exc
    module.eval()
    for parameter in module.parameters():
        parameter.requires_grad_(False)  # serving only: no autograd bookkeeping per call
    input_shape = tuple(int(d) for d in manifest["input_shape"])
    horizons = [str(h) for h in manifest["horizons"]]
    _probe(module, input_shape, len(horizons))
    if latency is not None:
        example = torch.zeros((1, *input_shape))
        with torch.no_grad():
            check_latency(lambda: module(example), latency)
    log.info("loaded model %s/%s from %s", manifest.get("name"), manifest["version"], model_dir)
    return LoadedModel(module, manifest, input_shape, horizons)


async def load_model_async(model_dir: Path, expected_spec_hash: str | None = None) -> LoadedModel:
    return await asyncio.to_thread(load_model, model_dir, expected_spec_hash)


def check_latency(
    call: Callable[[], object], check: LatencyCheck, clock: Callable[[], int] = time.thread_time_ns
) -> int:
    """Time `check.calls` calls; returns the p99 in ns, or raises TooSlow as soon as more calls than
    a p99 allows were over budget (a slow model is refused after a few calls, not after all of them).

    The clock is the loading thread's CPU time: what the model costs, without the waits while the thread
    is preempted (on a loaded machine those alone would refuse any model)."""
    allowed_slow = int(check.calls * (1 - LATENCY_QUANTILE))
    timings: list[int] = []
    slow = 0
    for _ in range(check.calls):
        started = clock()
        call()
        elapsed = clock() - started
        timings.append(elapsed)
        if elapsed > check.budget_ns:
            slow += 1
            if slow > allowed_slow:
                raise TooSlow(
                    f"{slow} of {len(timings)} probe calls over the {check.budget_ns / 1000:.0f} us "
                    f"inference budget (slowest {max(timings) / 1000:.0f} us)"
                )
    return int(np.percentile(np.asarray(timings), LATENCY_QUANTILE * 100))


def _manifest(model_dir: Path) -> dict[str, Any]:
    try:
        manifest = read_manifest(model_dir)
    except (OSError, ValueError) as exc:
        raise ManifestError(f"{model_dir}: unreadable manifest.json ({exc})") from exc
    missing = {"version", "sha256", "spec_hash", "feature_spec", "input_shape", "horizons"} - manifest.keys()
    if missing:
        raise ManifestError(f"{model_dir}: manifest.json lacks {sorted(missing)}")
    shape, horizons = manifest["input_shape"], manifest["horizons"]
    if not isinstance(shape, list) or not shape or not all(_positive_int(d) for d in shape):
        raise ManifestError(f"{model_dir}: input_shape must be a list of positive integers")
    if not isinstance(horizons, list) or not horizons or not all(isinstance(h, str) for h in horizons):
        raise ManifestError(f"{model_dir}: horizons must be a list of horizon names")
    return manifest


def _positive_int(value: object) -> bool:
    return type(value) is int and value > 0


def _check_spec(manifest: dict[str, Any], expected: str | None) -> None:
    recorded = str(manifest["spec_hash"])
    try:
        recomputed = FeatureSpec.from_json_dict(manifest["feature_spec"]).spec_hash()
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ManifestError(f"feature_spec in manifest is invalid ({exc!r})") from exc
    if recomputed != recorded:
        raise SpecMismatch(f"manifest spec_hash {recorded} does not match its feature_spec ({recomputed})")
    if expected is not None and recorded != expected:
        raise SpecMismatch(f"model spec_hash {recorded} != this process's feature spec {expected}")


def _probe(module: torch.jit.ScriptModule, input_shape: tuple[int, ...], n_horizons: int) -> None:
    generator = torch.Generator().manual_seed(PROBE_SEED)
    probe = torch.randn((PROBE_ROWS, *input_shape), generator=generator)
    try:
        with torch.no_grad():
            warmup_until = time.perf_counter_ns() + WARMUP_MAX_NS
            for _ in range(WARMUP_CALLS):
                module(probe[:1])
                if time.perf_counter_ns() > warmup_until:
                    break
            out = module(probe)
    except RuntimeError as exc:
        raise ProbeError(f"model failed on the probe input ({exc})") from exc
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (PROBE_ROWS, n_horizons, 3):
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ProbeError(f"probe output shape {shape} != {(PROBE_ROWS, n_horizons, 3)}")
    if not torch.isfinite(out).all():
        raise ProbeError("probe output has NaN or inf")
    sums = out.sum(dim=-1)
    if (out < 0).any() or not torch.allclose(sums, torch.ones_like(sums), atol=PROB_SUM_TOLERANCE):
        raise ProbeError("probe output is not a probability distribution per horizon")
