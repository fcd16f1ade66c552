"""Model inference for the quoter: a feature vector in, a `Prediction` out, with its inference time.

Works with any object that maps a float32 batch to (batch, horizons, 3) probabilities (a loaded TorchScript
model: models/loader.py `LoadedModel`). Sequence models get the last `window` feature vectors, one per
cycle. The expected return is the direction band times P(up) - P(down), averaged over the horizons: the
labels' flat band (features/labels.py) is the smallest move the model calls a move. Output is passed on
as it is, NaN included: the quoter's checks (strategy/ml_skew.py) decide whether it may be used.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from flashmm_engine.types import Prediction


class ProbabilityModel(Protocol):
    def predict(self, x: NDArray[Any]) -> NDArray[Any]: ...


class ModelPredictor:
    def __init__(
        self,
        model: ProbabilityModel,
        version: str,
        horizons: list[str],
        input_shape: tuple[int, ...],
        flat_band_ticks: float,
        measure_time: bool = True,
    ) -> None:
        if len(input_shape) not in (1, 2):
            raise ValueError(f"model input shape {input_shape}: expected (features,) or (window, features)")
        self.model = model
        self.version = version
        self.horizons = tuple(horizons)
        self.input_shape = input_shape
        self.flat_band_ticks = flat_band_ticks
        self.measure_time = measure_time
        self.window = input_shape[0] if len(input_shape) == 2 else 1
        self._rows: deque[NDArray[Any]] = deque(maxlen=self.window)
        self.calls = 0

    @classmethod
    def from_loaded(cls, loaded: Any, measure_time: bool = True) -> ModelPredictor:
        """From a models.loader.LoadedModel (its manifest carries the label spec)."""
        band = float(loaded.manifest["label_spec"]["flat_band_ticks"])
        return cls(loaded, loaded.version, loaded.horizons, loaded.input_shape, band, measure_time)

    def continue_from(self, previous: ModelPredictor) -> None:
        """Start with `previous`'s latest feature rows (a model swap with the same feature spec), so a
        sequence model predicts from its first cycle instead of after refilling its window."""
        self._rows.extend(list(previous._rows)[-self.window :])

    def predict(self, features: NDArray[Any], mid_x2: int, ts_ns: int) -> Prediction | None:
        """None until a sequence model has a full window."""
        self._rows.append(np.asarray(features, dtype=np.float32))
        if len(self._rows) < self.window:
            return None
        x = np.stack(self._rows)[None] if self.window > 1 else self._rows[-1][None]
        started = time.perf_counter_ns() if self.measure_time else 0
        out = np.asarray(self.model.predict(x), dtype=np.float64)
        elapsed = time.perf_counter_ns() - started if self.measure_time else 0
        self.calls += 1
        probs = out.reshape(len(self.horizons), 3)
        band_bps = self.flat_band_ticks * 2 / mid_x2 * 1e4 if mid_x2 > 0 else 0.0
        expected = float(band_bps * np.mean(probs[:, 2] - probs[:, 0]))
        return Prediction(
            self.version,
            ts_ns,
            self.horizons,
            tuple((float(r[0]), float(r[1]), float(r[2])) for r in probs),
            expected,
            elapsed,
        )
