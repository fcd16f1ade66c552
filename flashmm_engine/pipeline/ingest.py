"""One (hour, market) partition: its raw segments -> normalized tables -> batch features."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flashmm_engine.features.batch import FeatureFrame, compute_features
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.features.state import FeatureState
from flashmm_engine.marketdata.normalize import TABLE_NAMES, NormalizedTables, iter_events
from flashmm_engine.pipeline.segments import Segment
from flashmm_engine.pipeline.store import (
    concat_tables,
    read_events,
    write_empty_events,
    write_events,
    write_frame,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IngestSummary:
    rows: dict[str, int]
    segments: list[str]
    messages: int = 0
    malformed: int = 0
    resyncs: int = 0
    ts_min: int | None = None
    ts_max: int | None = None
    spec: dict[str, Any] | None = None
    paths: dict[str, str] = field(default_factory=dict)


def ingest_partition(segments: Sequence[Segment], market: str, out_dir: Path) -> IngestSummary:
    """Normalize every segment of the partition through the venue's own feed pipeline and store the joined
    tables; with no segment, store empty tables (the quality checks report the empty hour)."""
    from flashmm_engine.venues.captures import normalize_capture

    if not segments:
        write_empty_events(market, out_dir)
        return IngestSummary(rows=dict.fromkeys(TABLE_NAMES, 0), segments=[])
    parts: list[NormalizedTables] = []
    messages = malformed = resyncs = 0
    for segment in segments:
        tables, stats = normalize_capture(segment.path)
        parts.append(tables)
        messages, malformed, resyncs = (
            messages + stats.messages, malformed + stats.malformed, resyncs + stats.resyncs
        )  # fmt: skip
    tables = concat_tables(parts)
    paths = write_events(tables, out_dir)
    times = _times(tables)
    return IngestSummary(
        rows={name: len(getattr(tables, name)) for name in TABLE_NAMES},
        segments=[str(s.path) for s in segments],
        messages=messages,
        malformed=malformed,
        resyncs=resyncs,
        ts_min=int(times.min()) if len(times) else None,
        ts_max=int(times.max()) if len(times) else None,
        spec=tables.instrument.to_json(),
        paths={name: str(path) for name, path in paths.items()},
    )


def _times(tables: NormalizedTables) -> np.ndarray[Any, Any]:
    return np.concatenate([getattr(tables, name)["ts_local"].to_numpy(np.int64) for name in TABLE_NAMES])


def features_partition(events_dir: Path, out_dir: Path, market: str, sample_ns: int) -> FeatureFrame:
    """Batch features of the stored events: the engine's FeatureState driven over them (same code)."""
    spec = FeatureSpec()
    tables = read_events(events_dir)
    if tables is None:
        frame = empty_frame(spec, market)
    else:
        frame = compute_features(iter_events(tables), spec, tables.spec.symbol, sample_ns)
    write_frame(frame, out_dir)
    return frame


def empty_frame(spec: FeatureSpec, market: str) -> FeatureFrame:
    names = FeatureState(spec, market).names
    empty = np.zeros(0, dtype=np.int64)
    return FeatureFrame(names, market, empty, np.zeros((0, len(names))), np.zeros(0, bool), empty, empty, 0)


def frame_summary(frame: FeatureFrame) -> dict[str, Any]:
    warm = int(frame.warm.sum())
    warm_values = frame.values[frame.warm]
    return {
        "samples": len(frame.ts),
        "warm_samples": warm,
        "ts_min": int(frame.ts[0]) if len(frame.ts) else None,
        "ts_max": int(frame.ts[-1]) if len(frame.ts) else None,
        "non_finite_after_warmup": int((~np.isfinite(warm_values)).sum()),
        "features": len(frame.names),
        "stats": pd.DataFrame(warm_values, columns=frame.names).describe().T[["mean", "std", "min", "max"]]
        if warm
        else None,
    }
