"""Quality of one partition's normalized events: time monotonic per stream, positive sizes, no crossed
book, sequence continuity, no silence longer than `pipeline.max_gap_s`, and not empty."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import great_expectations.expectations as gxe
import numpy as np
import pandas as pd

from flashmm_dagster.checks.gx import expect, expect_all
from flashmm_engine.pipeline.store import read_table
from flashmm_engine.types import NS_PER_S

ASSET = "market_events"
CHECKS = (
    "not_empty",
    "time_monotonic",
    "positive_sizes",
    "no_crossed_book",
    "sequence_continuity",
    "no_long_gap",
)
STREAMS = ("book_delta", "trade", "top_of_book")


def specs() -> list[dg.AssetCheckSpec]:
    descriptions = {
        "not_empty": "The hour holds at least one book or trade event.",
        "time_monotonic": "ts_local never decreases in a stream, nor ts_exchange where the venue sets it.",
        "positive_sizes": "Trade and top-of-book sizes are > 0; book deltas >= 0 (0 deletes a level).",
        "no_crossed_book": "Best bid < best ask on every top-of-book row.",
        "sequence_continuity": "Book-delta and top-of-book sequence numbers only move forward.",
        "no_long_gap": "No silence between consecutive events longer than pipeline.max_gap_s.",
    }
    return [dg.AssetCheckSpec(name, asset=ASSET, description=descriptions[name]) for name in CHECKS]


def run_checks(events_dir: Path, max_gap_s: float) -> dict[str, dg.AssetCheckResult]:
    tables = {name: read_table(events_dir, name) for name in STREAMS}
    times = np.sort(np.concatenate([tables[s]["ts_local"].to_numpy(np.int64) for s in STREAMS]))
    events = pd.DataFrame({"ts_local": times})
    return {
        "not_empty": expect("not_empty", events, gxe.ExpectTableRowCountToBeBetween(min_value=1), ASSET),
        "time_monotonic": expect_all(
            "time_monotonic",
            ASSET,
            [
                (f"{s}.{c}", _steps(tables[s], c), _non_negative("step"))
                for s in STREAMS
                for c in _clocks(tables[s])
            ],
        ),
        "positive_sizes": expect_all(
            "positive_sizes",
            ASSET,
            [
                ("trade.size", tables["trade"], _positive("size")),
                ("top_of_book.bid_size", tables["top_of_book"], _positive("bid_size")),
                ("top_of_book.ask_size", tables["top_of_book"], _positive("ask_size")),
                ("book_delta.size", tables["book_delta"], _non_negative("size")),
            ],
        ),
        "no_crossed_book": expect(
            "no_crossed_book", _spreads(tables["top_of_book"]), _positive("spread_ticks"), ASSET
        ),
        "sequence_continuity": expect_all(
            "sequence_continuity",
            ASSET,
            [
                ("book_delta.seq", _seq_steps(tables["book_delta"]), _positive("seq_step")),
                ("top_of_book.seq", _seq_steps(tables["top_of_book"]), _non_negative("seq_step")),
            ],
        ),
        "no_long_gap": expect(
            "no_long_gap",
            _gaps(times),
            gxe.ExpectColumnValuesToBeBetween(column="gap_s", min_value=0, max_value=max_gap_s),
            ASSET,
            {"max_gap_s": max_gap_s},
        ),
    }


def _positive(column: str) -> gxe.ExpectColumnValuesToBeBetween:
    return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0, strict_min=True)


def _non_negative(column: str) -> gxe.ExpectColumnValuesToBeBetween:
    return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=0)


def _clocks(frame: pd.DataFrame) -> list[str]:
    """ts_local always; ts_exchange when the venue stamps this stream (spot bookTicker carries none)."""
    return ["ts_local", "ts_exchange"] if bool((frame["ts_exchange"] > 0).any()) else ["ts_local"]


def _steps(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    stamped = frame[frame[column] > 0]
    values = stamped[column].to_numpy(np.int64)
    return pd.DataFrame(
        {"row": stamped.index[1:], "previous": values[:-1], column: values[1:], "step": np.diff(values)}
    )


def _spreads(top: pd.DataFrame) -> pd.DataFrame:
    view = top[["ts_local", "bid_price", "ask_price", "seq"]].copy()
    view["spread_ticks"] = view["ask_price"] - view["bid_price"]
    return view


def _seq_steps(frame: pd.DataFrame) -> pd.DataFrame:
    """Consecutive distinct sequence numbers (a diff spans several level rows with one seq)."""
    seq = frame["seq"].to_numpy(np.int64)
    keep = np.ones(len(seq), bool)
    keep[1:] = seq[1:] != seq[:-1]
    distinct, rows = seq[keep], frame.index[keep]
    return pd.DataFrame(
        {"row": rows[1:], "previous_seq": distinct[:-1], "seq": distinct[1:], "seq_step": np.diff(distinct)}
    )


def _gaps(times: np.ndarray[Any, Any]) -> pd.DataFrame:
    return pd.DataFrame({"from_ts": times[:-1], "to_ts": times[1:], "gap_s": np.diff(times) / NS_PER_S})
