"""The model in the cycle: the FeatureState vector in, a `Prediction` (or a reason for none) out.

Inference runs on the loop: a served model is small (the export checks its p99 against a budget) and
a thread hop would cost more than the call. A non-finite output is refused and counted, never traded.
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from flashmm_engine.models.loader import LoadedModel
from flashmm_engine.types import NS_PER_MS, Prediction

DEFAULT_FLAT_BAND_TICKS = 0.25


class ModelInference:
    def __init__(self, model: LoadedModel, cycle_ns: int) -> None:
        self.model = model
        shape = model.input_shape
        self.window = shape[0] if len(shape) == 2 else 1
        self._history: deque[NDArray[Any]] = deque(maxlen=self.window)
        self.horizon_index = _quoting_horizon(model.horizons, cycle_ns)
        label = model.manifest.get("label_spec", {})
        self.flat_band_ticks = float(label.get("flat_band_ticks", DEFAULT_FLAT_BAND_TICKS))
        self.refusals: Counter[str] = Counter()
        torch.set_num_threads(1)  # one market's single sample: threads only add wake-up latency

    @property
    def version(self) -> str:
        return self.model.version

    def predict(self, features: NDArray[Any], now_ns: int, mid_x2: int) -> tuple[Prediction | None, int]:
        """A prediction for this cycle and the inference time (ns); None while the window fills or when the
        output is not finite."""
        self._history.append(np.asarray(features, dtype=np.float32))
        if len(self._history) < self.window:
            self.refusals["window_filling"] += 1
            return None, 0
        x = self._history[-1][None, :] if self.window == 1 else np.stack(self._history)[None, :, :]
        started = time.perf_counter_ns()
        out = self.model.predict(x)
        elapsed = time.perf_counter_ns() - started
        probs = tuple((float(h[0]), float(h[1]), float(h[2])) for h in out[0])
        if not all(math.isfinite(p) for row in probs for p in row):
            self.refusals["model_nan"] += 1
            return None, elapsed
        down, _, up = probs[self.horizon_index]
        band_bps = self.flat_band_ticks * 2 / mid_x2 * 1e4 if mid_x2 > 0 else 0.0
        return (
            Prediction(
                self.version, now_ns, tuple(self.model.horizons), probs, (up - down) * band_bps, elapsed
            ),
            elapsed,
        )


def _quoting_horizon(horizons: list[str], cycle_ns: int) -> int:
    """The shortest horizon at least one cycle long (the last one if all are shorter)."""
    lengths = [int(h.removesuffix("ms")) * NS_PER_MS for h in horizons]
    for i, length in enumerate(lengths):
        if length >= cycle_ns:
            return i
    return len(lengths) - 1
