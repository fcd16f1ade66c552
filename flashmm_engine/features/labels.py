"""Labels: forward mid return and direction (down / flat / up) at fixed horizons after each sample.

A label at t reads the mid at t (the reference point the move is measured from) and at t + horizon,
nothing else; samples whose horizon runs past the end of the data get no label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flashmm_engine.types import NS_PER_MS

DOWN, FLAT, UP = 0, 1, 2


@dataclass(frozen=True, slots=True)
class LabelSpec:
    horizons_ms: tuple[int, ...] = (100, 200, 500, 1_000)
    flat_band_ticks: float = 0.25
    """A move of at most this many ticks is flat; mids move in half ticks, so 0.25 makes any change a move."""

    @property
    def horizon_names(self) -> list[str]:
        return [f"{h}ms" for h in self.horizons_ms]


@dataclass(frozen=True, slots=True)
class Labels:
    direction: NDArray[Any]  # int64 (n, H): DOWN, FLAT or UP
    return_bps: NDArray[Any]  # float64 (n, H)
    valid: NDArray[Any]  # bool (n, H): the horizon lies within the data
    flat_band_bps: NDArray[Any]  # float64 (n,)


def mid_at(mid_ts: NDArray[Any], mid_x2: NDArray[Any], ts: NDArray[Any]) -> NDArray[Any]:
    """Mid (bid + ask ticks) as of each time in ts; 0 where no mid was known yet."""
    index = np.searchsorted(mid_ts, ts, side="right") - 1
    return np.where(index >= 0, mid_x2[np.clip(index, 0, None)], 0) if len(mid_x2) else np.zeros_like(ts)


def compute_labels(
    sample_ts: NDArray[Any], mid_ts: NDArray[Any], mid_x2: NDArray[Any], last_event_ts: int, spec: LabelSpec
) -> Labels:
    now = mid_at(mid_ts, mid_x2, sample_ts).astype(np.float64)
    band_bps = np.where(now > 0, spec.flat_band_ticks * 2 / np.maximum(now, 1) * 1e4, 0.0)
    directions, returns, valid = [], [], []
    for horizon in spec.horizons_ms:
        target_ts = sample_ts + horizon * NS_PER_MS
        later = mid_at(mid_ts, mid_x2, target_ts).astype(np.float64)
        ok = (now > 0) & (later > 0) & (target_ts <= last_event_ts)
        ret = np.where(ok, np.log(np.where(ok, later, 1.0) / np.where(ok, now, 1.0)) * 1e4, 0.0)
        direction = np.full(len(sample_ts), FLAT, dtype=np.int64)
        direction[ret > band_bps] = UP
        direction[ret < -band_bps] = DOWN
        directions.append(direction)
        returns.append(ret)
        valid.append(ok)
    n = len(sample_ts)
    return Labels(
        direction=np.stack(directions, axis=1) if n else np.zeros((0, len(spec.horizons_ms)), np.int64),
        return_bps=np.stack(returns, axis=1) if n else np.zeros((0, len(spec.horizons_ms))),
        valid=np.stack(valid, axis=1) if n else np.zeros((0, len(spec.horizons_ms)), bool),
        flat_band_bps=band_bps,
    )
