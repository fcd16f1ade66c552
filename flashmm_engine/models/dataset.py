"""Training and evaluation sets: features and labels from captures, aligned on one time grid."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from flashmm_engine.features.batch import FeatureFrame, compute_features_tables
from flashmm_engine.features.labels import LabelSpec, compute_labels
from flashmm_engine.features.spec import FeatureSpec, mirror_map

log = logging.getLogger(__name__)

BASELINE_FEATURE = "imb_1"


@dataclass(frozen=True, slots=True)
class Dataset:
    ts: NDArray[Any]  # int64 (n,) sample times
    x: NDArray[Any]  # float32 (n, F) or (n, window, F)
    y: NDArray[Any]  # int64 (n, H)
    imbalance: NDArray[Any]  # float64 (n,): top-of-book imbalance, the baseline's only input
    source: NDArray[Any]  # int64 (n,): index of the sample's instrument in `instruments`
    instruments: tuple[str, ...] = ()
    """Rows are grouped by instrument, in time order inside each (blocks of the bootstrap need that)."""

    def __len__(self) -> int:
        return len(self.ts)

    def select(self, mask: NDArray[Any]) -> Dataset:
        return Dataset(
            self.ts[mask],
            self.x[mask],
            self.y[mask],
            self.imbalance[mask],
            self.source[mask],
            self.instruments,
        )

    def instrument_mask(self, instruments: Sequence[str]) -> NDArray[Any]:
        codes = [i for i, name in enumerate(self.instruments) if name in instruments]
        mask: NDArray[Any] = np.isin(self.source, codes)
        return mask

    def per_instrument_cut(self, fraction: float) -> NDArray[Any]:
        """Per sample, the time at `fraction` of its own instrument's span: each instrument splits by its
        own time, so pooling instruments of different lengths or days never mixes their periods."""
        cuts = np.zeros(len(self), dtype=np.int64)
        for code in np.unique(self.source):
            rows = self.source == code
            cuts[rows] = time_cut(self.ts[rows], fraction)
        return cuts


def capture_frames(
    paths: Sequence[Path], market: Literal["spot", "usdm"], spec: FeatureSpec, sample_ns: int
) -> list[FeatureFrame]:
    """Normalize each capture through the market-data pipeline and compute its features in batch."""
    from flashmm_engine.venues.captures import load_capture

    frames = []
    for path in paths:
        log.info("normalizing %s", path)
        started = time.perf_counter()
        tables = load_capture(path, market)
        normalized = time.perf_counter()
        log.info("normalized in %.1f s; computing features", normalized - started)
        frames.append(compute_features_tables(tables, spec, sample_ns))
        log.info("features: %d samples in %.1f s", len(frames[-1].ts), time.perf_counter() - normalized)
    return sorted(frames, key=lambda frame: int(frame.ts[0]) if len(frame.ts) else 0)


def build_dataset(
    frames: Sequence[FeatureFrame], label_spec: LabelSpec, window: int = 1, stride: int = 1
) -> Dataset:
    """Warm samples whose every horizon is labelled; with window > 1, x holds the last `window` feature
    vectors `stride` samples apart (oldest first), as the engine keeps them at its tick."""
    instruments = tuple(dict.fromkeys(frame.market for frame in frames))
    parts = [
        _frame_dataset(frame, label_spec, window, stride, instruments.index(frame.market)) for frame in frames
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        raise ValueError("no labelled warm samples: the data is shorter than the feature warm-up")
    fields = ("ts", "x", "y", "imbalance", "source")
    ts, x, y, imbalance, source = (np.concatenate([getattr(p, f) for p in parts]) for f in fields)
    pooled = Dataset(ts, x, y, imbalance, source, instruments)
    return pooled.select(np.lexsort((pooled.ts, pooled.source)))


def _frame_dataset(
    frame: FeatureFrame, label_spec: LabelSpec, window: int, stride: int, source: int
) -> Dataset:
    labels = compute_labels(frame.ts, frame.mid_ts, frame.mid_x2, frame.last_event_ts, label_spec)
    usable = frame.warm & labels.valid.all(axis=1)
    usable[: (window - 1) * stride] = False
    rows = np.flatnonzero(usable)
    values = frame.values.astype(np.float32)
    if window == 1:
        x = values[rows]
    else:
        offsets = np.arange(-(window - 1) * stride, 1, stride)
        x = values[rows[:, None] + offsets[None, :]]
    imbalance = frame.values[rows, frame.names.index(BASELINE_FEATURE)]
    return Dataset(
        frame.ts[rows], x, labels.direction[rows], imbalance, np.full(len(rows), source, dtype=np.int64)
    )


def mirrored(ds: Dataset, names: list[str]) -> Dataset:
    """The data plus its mirror image (bids <-> asks, up <-> down). Direction is symmetric in law, so this
    doubles the sample and removes the drift of a short training period from the model's direction."""
    source, signs = mirror_map(names)
    flipped = ds.x[..., source] * np.asarray(signs, dtype=ds.x.dtype)
    return Dataset(
        np.concatenate([ds.ts, ds.ts]),
        np.concatenate([ds.x, flipped]),
        np.concatenate([ds.y, 2 - ds.y]),  # DOWN=0 <-> UP=2, FLAT stays
        np.concatenate([ds.imbalance, -ds.imbalance]),
        np.concatenate([ds.source, ds.source]),
        ds.instruments,
    )


def time_cut(ts: NDArray[Any], fraction: float) -> int:
    """The time at `fraction` of the span covered by ts: splits are by time, never by shuffled rows."""
    if not len(ts):
        return 0
    return int(ts[0] + (int(ts[-1]) - int(ts[0])) * fraction)
