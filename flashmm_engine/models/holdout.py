"""Which samples a model may be scored on: time splits inside each instrument for training, and for
`model evaluate` the part of the data outside the model's training windows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from flashmm_engine.errors import InputError
from flashmm_engine.models.dataset import Dataset


FALLBACK_FROM_FRACTION = 0.7
"""For a manifest without training windows: score the last 30% of each instrument's span."""


@dataclass(frozen=True, slots=True)
class Split:
    fit: Dataset
    val: Dataset
    train: Dataset
    test: Dataset


def split_by_time(ds: Dataset, train_fraction: float, val_fraction: float, embargo_ns: int) -> Split:
    """Inside each instrument: train = [start, cut), test = [cut, end]; inside train, fit precedes val.
    Each earlier part stops `embargo_ns` (the longest label horizon) before the next begins, so no label
    looks into it."""
    cut = ds.per_instrument_cut(train_fraction)
    train = ds.select(ds.ts < cut - embargo_ns)
    val_cut = train.per_instrument_cut(1 - val_fraction)
    return Split(
        fit=train.select(train.ts < val_cut - embargo_ns),
        val=train.select(train.ts >= val_cut),
        train=train,
        test=ds.select(ds.ts >= cut),
    )


def training_windows(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Instrument -> its training window ({start_ns, end_ns}) as the manifest records it."""
    windows = manifest.get("training_windows")
    if isinstance(windows, dict):
        return windows
    single, market = manifest.get("training_window"), manifest.get("instrument")
    if isinstance(single, dict) and "end_ns" in single and isinstance(market, str):
        return {market: single}
    return {}


@dataclass(frozen=True, slots=True)
class HeldOut:
    mask: NDArray[Any]
    rule: str
    warnings: list[str]


def held_out(ds: Dataset, manifest: dict[str, Any], embargo_ns: int, from_fraction: float | None) -> HeldOut:
    """With `from_fraction`, the samples after that fraction of each instrument's span. Otherwise, for an
    instrument the model was trained on, the samples more than an embargo outside its training window;
    for any other instrument all of them, with a warning that the model never saw it."""
    windows = training_windows(manifest)
    trained = sorted(windows) or [str(m) for m in manifest.get("instruments", [])]
    warnings = [
        f"model was trained on {', '.join(trained) or 'unrecorded instruments'}; it meets {name}, "
        "which it was not trained on"
        for name in ds.instruments
        if name not in trained
    ]
    if from_fraction is None and not windows:
        from_fraction = FALLBACK_FROM_FRACTION
        warnings.append(f"manifest records no training window: scoring after {from_fraction} of the span")
    if from_fraction is not None:
        mask = ds.ts >= ds.per_instrument_cut(from_fraction)
        return HeldOut(mask, f"after {from_fraction} of each instrument's span", warnings)
    mask = np.ones(len(ds), dtype=bool)
    for code, name in enumerate(ds.instruments):
        window = windows.get(name)
        if window is None:
            continue
        rows = ds.source == code
        start, end = int(window["start_ns"]) - embargo_ns, int(window["end_ns"]) + embargo_ns
        inside = (ds.ts >= start) & (ds.ts <= end)
        mask[rows & inside] = False
    if not mask.any():
        raise InputError(
            "all samples lie inside the model's training window; give data after it, or pass "
            "--from-fraction to score part of it anyway"
        )
    return HeldOut(mask, "outside each trained instrument's training window (+ embargo)", warnings)
