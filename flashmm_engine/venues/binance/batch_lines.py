"""A capture's text indexed as a whole: line offsets, number runs and local timestamps, vectorized."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flashmm_engine.venues.binance.batch_digits import (
    MARGIN,
    Bytes,
    Ints,
    Mask,
    number_runs,
    padded,
    runs_to_units,
)

STAMP_DIGITS = 19
"""`<ts_local_ns>` of today's captures: 19 digits, then a space. Other stamps take the per-line path."""
NEWLINE = 10
CARRIAGE_RETURN = 13
SPACE = 32


@dataclass(frozen=True)
class Lines:
    """The non-empty lines of a `padded` text and the text's number runs (see `batch_digits.number_runs`)."""

    text: bytes
    buf: Bytes
    starts: Ints
    ends: Ints
    run_starts: Ints
    run_ends: Ints

    def first_runs(self, offsets: Ints) -> Ints:
        """Index of the first run at or after each offset."""
        return np.searchsorted(self.run_starts, offsets)

    def line(self, index: int) -> bytes:
        return self.text[int(self.starts[index]) : int(self.ends[index])]


def index_lines(text: bytes) -> Lines:
    data = padded(text)
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == NEWLINE)
    starts = np.concatenate([[MARGIN], newlines + 1])
    ends = np.concatenate([newlines, [MARGIN + len(text)]])
    ends -= (buf[ends - 1] == CARRIAGE_RETURN) & (ends > starts)
    keep = ends > starts
    run_starts, run_ends = number_runs(buf)
    # an empty run past every line: run lookups never fall off the end, and no line ever owns it
    sentinel = np.array([len(buf) - 1], dtype=np.int64)
    run_starts, run_ends = np.concatenate([run_starts, sentinel]), np.concatenate([run_ends, sentinel])
    return Lines(data, buf, starts[keep], ends[keep], run_starts, run_ends)


def stamps(lines: Lines) -> tuple[Ints, Mask]:
    """(ts_local, regular) per line; regular lines start with exactly `STAMP_DIGITS` digits and a space."""
    starts, stamp_ends = lines.starts, lines.starts + STAMP_DIGITS
    if not len(starts):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.bool_)
    first = lines.first_runs(starts)
    regular = (lines.run_starts[first] == starts) & (lines.run_ends[first] == stamp_ends)
    regular &= (lines.buf[stamp_ends] == SPACE) & (lines.ends > stamp_ends + 1)
    values, valid = runs_to_units(lines.buf, starts, stamp_ends, None)
    return values, regular & valid
