"""A long Binance capture made of copies of a short one, laid end to end.

Copy k is the original with every time shifted by k copy-lengths (local stamps in ns, exchange times `E`/`T`
in ms), every update id (`U`, `u`, `pu`, `lastUpdateId`) by k id-spans and every trade id (`t`) by k
trade-id spans, chosen so the sync rules hold across the joins: the first diff of copy k + 1 chains onto
the last diff of copy k (spot: `U` = previous `u` + 1; futures: `pu` = previous `u`). Only the first copy
keeps the REST snapshot line: the book stays in sync through every later copy, as a live feed's would.

Numbers are rewritten in place, digit by digit over the whole text at once (vectorized); a shift that would
change a number's width is refused (the text would not be the same shape).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from flashmm_engine.types import NS_PER_MS

GAP_NS = 1_000 * NS_PER_MS
"""Quiet time between two copies (no line of copy k + 1 shares a stamp with copy k)."""
STAMP_DIGITS = 19
MAX_INT64_DIGITS = 19
FIELD = re.compile(rb'"(E|T|U|u|pu|t|lastUpdateId)":(\d+)')
TIME_MS, UPDATE_ID, TRADE_ID, STAMP_NS = 0, 1, 2, 3
KIND_OF = {b"E": TIME_MS, b"T": TIME_MS, b"U": UPDATE_ID, b"u": UPDATE_ID, b"pu": UPDATE_ID}
KIND_OF |= {b"lastUpdateId": UPDATE_ID, b"t": TRADE_ID}


class TileError(ValueError):
    """The capture cannot be tiled (no depth diffs, no stamps, or a number would change width)."""


@dataclass(frozen=True)
class Tiler:
    text: NDArray[np.uint8]  # the original capture
    ends: NDArray[np.int64]  # end (exclusive) of each number's digits
    widths: NDArray[np.int64]
    values: NDArray[np.int64]
    kinds: NDArray[np.int64]
    shifts: NDArray[np.int64]  # per kind: the shift of one copy
    snapshot: tuple[int, int]  # byte range of the REST snapshot line(s), (0, 0) if none
    copy_ns: int

    @classmethod
    def of(cls, text: bytes) -> Tiler:
        lines = text.splitlines(keepends=True)
        ends: list[int] = []
        values: list[int] = []
        kinds: list[int] = []
        first_ids: list[int] = []
        final_ids: list[int] = []
        previous_ids: list[int] = []
        trade_ids: list[int] = []
        snapshot = (0, 0)
        offset = 0
        for line in lines:
            stamp = line[:STAMP_DIGITS]
            if len(line) > STAMP_DIGITS and stamp.isdigit() and line[STAMP_DIGITS : STAMP_DIGITS + 1] == b" ":
                ends.append(offset + STAMP_DIGITS)
                values.append(int(stamp))
                kinds.append(STAMP_NS)
            if line[STAMP_DIGITS + 1 : STAMP_DIGITS + 17] == b'{"lastUpdateId":' and snapshot == (0, 0):
                snapshot = (offset, offset + len(line))
            depth = b'"e":"depthUpdate"' in line
            for match in FIELD.finditer(line):
                name, number = match.group(1), int(match.group(2))
                ends.append(offset + match.end(2))
                values.append(number)
                kinds.append(KIND_OF[name])
                if depth:
                    {b"U": first_ids, b"u": final_ids, b"pu": previous_ids}.get(name, []).append(number)
                elif name == b"t":
                    trade_ids.append(number)
            offset += len(line)
        stamps = [v for v, k in zip(values, kinds, strict=True) if k == STAMP_NS]
        if not stamps or not final_ids:
            raise TileError("the capture has no stamped depth diffs to tile")
        span_ms = -(-(max(stamps) - min(stamps)) // NS_PER_MS)
        copy_ns = span_ms * NS_PER_MS + GAP_NS
        # spot: the next copy's first U is the last u + 1; futures: its first pu is the last u
        id_shift = max(final_ids) - min(previous_ids) if previous_ids else max(final_ids) + 1 - min(first_ids)
        trade_shift = max(trade_ids) - min(trade_ids) + 1 if trade_ids else 0
        shifts = np.array([copy_ns // NS_PER_MS, id_shift, trade_shift, copy_ns], dtype=np.int64)
        widths = [len(str(v)) for v in values]
        return cls(
            text=np.frombuffer(text, dtype=np.uint8).copy(),
            ends=np.asarray(ends, dtype=np.int64),
            widths=np.asarray(widths, dtype=np.int64),
            values=np.asarray(values, dtype=np.int64),
            kinds=np.asarray(kinds, dtype=np.int64),
            shifts=shifts,
            snapshot=snapshot,
            copy_ns=copy_ns,
        )

    def copy(self, k: int) -> bytes:
        """Copy k of the capture (k = 0 is the original, with its snapshot)."""
        values = self.values + k * self.shifts[self.kinds]
        limits = np.where(
            self.widths >= MAX_INT64_DIGITS, np.iinfo(np.int64).max, 10 ** np.minimum(self.widths, 18)
        )
        if (values >= limits).any():
            raise TileError(f"copy {k}: a shifted number would gain a digit")
        out = self.text.copy()
        for digit in range(int(self.widths.max())):
            has = self.widths > digit
            out[self.ends[has] - 1 - digit] = 48 + (values[has] // 10**digit) % 10
        data = out.tobytes()
        start, end = self.snapshot
        return data if k == 0 or end == 0 else data[:start] + data[end:]

    def copies_for(self, seconds: float) -> int:
        return max(1, -(-round(seconds * 1e9) // self.copy_ns))


def segments(tiler: Tiler, hours: float, segment_s: float = 3600.0) -> Iterator[list[int]]:
    """The copy indices of each segment of about `segment_s` of market time, covering `hours`."""
    total = tiler.copies_for(hours * 3600)
    per_segment = tiler.copies_for(segment_s)
    for start in range(0, total, per_segment):
        yield list(range(start, min(start + per_segment, total)))
