"""Normalized events and feature frames on disk (Parquet), written and read back by the same code."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd

from flashmm_engine.features.batch import FeatureFrame
from flashmm_engine.marketdata.columns import ColumnSink
from flashmm_engine.marketdata.normalize import TABLE_NAMES, NormalizedTables, write_parquet
from flashmm_engine.marketdata.spec import SPEC_FILE, read_spec
from flashmm_engine.pipeline.layout import FEATURES_FILE, FRAME_META_FILE, MIDS_FILE

TS = "ts"
WARM = "warm"


def empty_tables(market: str) -> dict[str, pd.DataFrame]:
    sink = ColumnSink(market)
    return {
        "book_delta": sink.book_delta(),
        "book_snapshot": sink.book_snapshot(),
        "trade": sink.trade(),
        "top_of_book": sink.top_of_book(),
    }


def concat_tables(parts: Sequence[NormalizedTables]) -> NormalizedTables:
    """Several segments of one instrument as one set of tables, in ts_local order."""
    if not parts:
        raise ValueError("no tables to join")
    joined = {
        name: _by_time(pd.concat([getattr(p, name) for p in parts], ignore_index=True))
        for name in TABLE_NAMES
    }
    return NormalizedTables(**joined, spec=parts[0].spec, instrument=parts[0].instrument)


def _by_time(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("ts_local", kind="stable").reset_index(drop=True)


def write_events(tables: NormalizedTables, out_dir: Path) -> dict[str, Path]:
    return write_parquet(tables, out_dir)


def write_empty_events(market: str, out_dir: Path) -> None:
    """An hour with no data: empty tables (so the quality checks can say so) and no spec."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, frame in empty_tables(market).items():
        frame.to_parquet(out_dir / f"{name}.parquet", index=False)
    (out_dir / SPEC_FILE).unlink(missing_ok=True)


def read_table(events_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(events_dir / f"{name}.parquet")


def read_events(events_dir: Path) -> NormalizedTables | None:
    """The stored tables, or None for an hour that holds no data (no spec was written)."""
    spec_path = events_dir / SPEC_FILE
    if not spec_path.is_file():
        return None
    instrument = read_spec(spec_path)
    tables = {name: read_table(events_dir, name) for name in TABLE_NAMES}
    return NormalizedTables(**tables, spec=instrument.market_spec(), instrument=instrument)


def write_frame(frame: FeatureFrame, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    values = pd.DataFrame(frame.values, columns=frame.names)
    values.insert(0, WARM, frame.warm)
    values.insert(0, TS, frame.ts)
    values.to_parquet(out_dir / FEATURES_FILE, index=False)
    pd.DataFrame({"mid_ts": frame.mid_ts, "mid_x2": frame.mid_x2}).to_parquet(
        out_dir / MIDS_FILE, index=False
    )
    meta = {"names": frame.names, "market": frame.market, "last_event_ts": frame.last_event_ts}
    (out_dir / FRAME_META_FILE).write_bytes(orjson.dumps(meta))
    return out_dir / FEATURES_FILE


def read_feature_table(features_dir: Path) -> pd.DataFrame:
    return pd.read_parquet(features_dir / FEATURES_FILE)


def read_frame(features_dir: Path) -> FeatureFrame:
    meta: dict[str, Any] = orjson.loads((features_dir / FRAME_META_FILE).read_bytes())
    table = read_feature_table(features_dir)
    mids = pd.read_parquet(features_dir / MIDS_FILE)
    names: list[str] = list(meta["names"])
    return FeatureFrame(
        names=names,
        market=str(meta["market"]),
        ts=table[TS].to_numpy(np.int64),
        values=table[names].to_numpy(np.float64),
        warm=table[WARM].to_numpy(bool),
        mid_ts=mids["mid_ts"].to_numpy(np.int64),
        mid_x2=mids["mid_x2"].to_numpy(np.int64),
        last_event_ts=int(meta["last_event_ts"]),
    )
