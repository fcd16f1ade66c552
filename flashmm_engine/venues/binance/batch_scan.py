"""One compiled pass over a whole capture's bytes: split lines, read stamps, match each line to a layout.

`scan` runs the programs of `batch_templates` over every line: each literal byte is compared, each number
is read digit by digit into integer units, and a line is taken only if it matches a layout exactly up to its
end. Numbers are taken only in the plainest form (digits, then optionally a dot and at least one digit;
integers without a leading zero; at most 18 significant positions, so int64 never overflows) and only when
exact in units of the step: nothing is rounded. Everything else gets kind `SLOW` and goes to the
per-message parser, which accepts or rejects it exactly as on the live path.

numba compiles this on first use and caches the machine code beside the source (`warm_up` compiles it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from flashmm_engine.marketdata.jit import jit
from flashmm_engine.venues.binance.batch_templates import DECIMAL, END, FLAG, INTEGER, LEVELS, LITERAL

Ints = npt.NDArray[np.int64]
Bytes = npt.NDArray[np.uint8]

SLOW = -1
STAMP_DIGITS = 19
"""`<ts_local_ns>` of today's captures: 19 digits, then a space. Other stamps take the per-line path."""
MAX_SLOTS = 12
MAX_DIGITS = 18
"""Digits (whole part plus the step's decimals) a number may have here: below 10**18, int64 is safe."""
NEWLINE, CARRIAGE_RETURN, SPACE, QUOTE, COMMA = 10, 13, 32, 34, 44
OPEN, CLOSE, DOT, ZERO, NINE, SLASH = 91, 93, 46, 48, 57, 47


@dataclass
class Scan:
    starts: Ints  # per non-empty line: its bytes are text[starts:ends] (a trailing CR cut)
    ends: Ints
    kinds: Ints  # index of the program the line matched, or SLOW
    stamps: Ints  # ts_local of lines with a regular stamp and a message after it (else 0)
    values: Ints  # [line, slot] of matched lines
    levels_at: Ints  # matched depth lines: first level in prices/sizes; then bid and ask counts
    bid_counts: Ints
    ask_counts: Ints
    prices: Ints
    sizes: Ints


def scan(text: bytes, programs: Ints, bounds: Ints, literals: bytes, units: Ints) -> Scan:
    """`programs`: every layout's rows, concatenated; layout k is rows bounds[k, 0]..bounds[k, 1].
    `units`: (decimals, multiple) of ticks and of lots (`UnitParser.decimals`, `.multiple`)."""
    buf = np.frombuffer(text, dtype=np.uint8)
    lits = np.frombuffer(literals, dtype=np.uint8)
    starts, ends, kinds, stamps, values, at, bids, asks, prices, sizes, counts = _scan(
        buf, programs, bounds, lits, units
    )
    lines, levels = int(counts[0]), int(counts[1])
    return Scan(
        starts[:lines],
        ends[:lines],
        kinds[:lines],
        stamps[:lines],
        values[:lines],
        at[:lines],
        bids[:lines],
        asks[:lines],
        prices[:levels],
        sizes[:levels],
    )


@jit
def _scan(buf: Any, programs: Any, bounds: Any, lits: Any, units: Any) -> Any:
    size = len(buf)
    newlines = 0
    brackets = 0
    for i in range(size):  # branch-free, so that it vectorizes
        newlines += buf[i] == NEWLINE
        brackets += buf[i] == OPEN
    lines = newlines + 1
    starts = np.empty(lines, np.int64)
    ends = np.empty(lines, np.int64)
    kinds = np.full(lines, SLOW, np.int64)
    stamps = np.zeros(lines, np.int64)
    values = np.zeros((lines, MAX_SLOTS), np.int64)
    levels_at = np.zeros(lines, np.int64)
    bid_counts = np.zeros(lines, np.int64)
    ask_counts = np.zeros(lines, np.int64)
    prices = np.empty(brackets, np.int64)
    sizes = np.empty(brackets, np.int64)
    line = 0
    levels = 0
    position = 0
    while position <= size:
        # a matched line's end is where its layout ends: no separate search for the newline
        stop = -1
        stamp = _stamp(buf, position, size)
        if stamp >= 0:
            body = position + STAMP_DIGITS + 1
            for kind in range(len(bounds)):
                stop, taken = _run(
                    buf, body, size, programs, bounds[kind, 0], bounds[kind, 1], lits, units,
                    values[line], prices, sizes, levels, bid_counts, ask_counts, line,
                )  # fmt: skip
                if stop >= 0:
                    kinds[line] = kind
                    levels_at[line] = levels
                    levels += taken
                    break
        if stop >= 0:  # at the newline, a CR before it, or the buffer's end
            following = stop + 1 if stop == size or buf[stop] == NEWLINE else stop + 2
        else:
            end = position
            while end < size and buf[end] != NEWLINE:
                end += 1
            following = end + 1
            stop = end
            if stop > position and buf[stop - 1] == CARRIAGE_RETURN:
                stop -= 1
        if stop > position:
            starts[line], ends[line] = position, stop
            stamps[line] = stamp if stamp > 0 and stop - position > STAMP_DIGITS + 1 else 0
            line += 1
        position = following
    counts = np.array([line, levels], np.int64)
    return starts, ends, kinds, stamps, values, levels_at, bid_counts, ask_counts, prices, sizes, counts


@jit
def _stamp(buf: Any, start: Any, stop: Any) -> Any:
    """The stamp's value, or -1 if it is not 19 digits (no leading zero, below 9e18), a space and a body."""
    if stop - start <= STAMP_DIGITS + 1 or buf[start + STAMP_DIGITS] != SPACE:
        return -1
    first = buf[start]
    if first <= ZERO or first > ZERO + 8:
        return -1
    value = 0
    for i in range(start, start + STAMP_DIGITS):
        digit = buf[i] - ZERO
        if digit < 0 or digit > 9:
            return -1
        value = value * 10 + digit
    return value


@jit
def _run(
    buf: Any,
    at: Any,
    stop: Any,
    programs: Any,
    low: Any,
    high: Any,
    lits: Any,
    units: Any,
    slots: Any,
    prices: Any,
    sizes: Any,
    levels: Any,
    bids: Any,
    asks: Any,
    line: Any,
) -> Any:
    """Match the line from `at` against one program (`stop`: the buffer's end); (where the line ends, levels
    written), or (-1, 0) if it does not match."""
    written = 0
    for row in range(low, high):
        op, a, b = programs[row, 0], programs[row, 1], programs[row, 2]
        if op == LITERAL:
            if at + b > stop:
                return -1, 0
            for i in range(b):
                if buf[at + i] != lits[a + i]:
                    return -1, 0
            at += b
        elif op == INTEGER:
            at = _integer(buf, at, stop, slots, a)
        elif op == DECIMAL:
            at = _decimal(buf, at, stop, units[b, 0], units[b, 1], slots, a)
        elif op == FLAG:
            at = _flag(buf, at, stop, slots, a)
        elif op == LEVELS:
            count = 0
            if at < stop and buf[at] != CLOSE:
                at, count = _levels(buf, at, stop, units, prices, sizes, levels + written)
            if a == 0:
                bids[line] = count
            else:
                asks[line] = count
            written += count
        elif op == END:
            if at == stop or buf[at] == NEWLINE:
                return at, written
            if buf[at] == CARRIAGE_RETURN and (at + 1 == stop or buf[at + 1] == NEWLINE):
                return at, written
            return -1, 0
        if at < 0:
            return -1, 0
    return -1, 0


@jit
def _levels(buf: Any, at: Any, stop: Any, units: Any, prices: Any, sizes: Any, first: Any) -> Any:
    """`["<price>","<size>"]` levels separated by commas; (position after them, count) or (-1, 0)."""
    count = 0
    while True:
        if at + 2 > stop or buf[at] != OPEN or buf[at + 1] != QUOTE:
            return -1, 0
        at = _decimal(buf, at + 2, stop, units[0, 0], units[0, 1], prices, first + count)
        if at < 0 or at + 3 > stop or buf[at] != QUOTE or buf[at + 1] != COMMA or buf[at + 2] != QUOTE:
            return -1, 0
        at = _decimal(buf, at + 3, stop, units[1, 0], units[1, 1], sizes, first + count)
        if at < 0 or at + 2 > stop or buf[at] != QUOTE or buf[at + 1] != CLOSE:
            return -1, 0
        at += 2
        count += 1
        if at < stop and buf[at] == COMMA:
            at += 1
        else:
            return at, count


@jit
def _integer(buf: Any, at: Any, stop: Any, out: Any, index: Any) -> Any:
    """A JSON integer (no sign, no leading zero, at most 18 digits); the position after it or -1."""
    start = at
    value = 0
    while at < stop and ZERO <= buf[at] <= NINE:
        value = value * 10 + (buf[at] - ZERO)
        at += 1
    digits = at - start
    if digits == 0 or digits > MAX_DIGITS or (digits > 1 and buf[start] == ZERO):
        return -1
    out[index] = value
    return at


@jit
def _decimal(buf: Any, at: Any, stop: Any, decimals: Any, multiple: Any, out: Any, index: Any) -> Any:
    """`digits[.digits]` as a whole number of steps of 10**-decimals * multiple; position after or -1.
    Digits finer than the step must be zeros and the value a multiple of the step: never rounded."""
    start = at
    value = 0
    while at < stop and ZERO <= buf[at] <= NINE:
        value = value * 10 + (buf[at] - ZERO)
        at += 1
    whole = at - start
    if whole == 0 or whole + decimals > MAX_DIGITS:
        return -1
    fraction = 0
    if at < stop and buf[at] == DOT:
        at += 1
        while at < stop and ZERO <= buf[at] <= NINE:
            digit = buf[at] - ZERO
            if fraction < decimals:
                value = value * 10 + digit
            elif digit != 0:
                return -1
            fraction += 1
            at += 1
        if fraction == 0:
            return -1
    if at < stop and (buf[at] == DOT or buf[at] == SLASH):
        return -1
    for _ in range(fraction, decimals):
        value *= 10
    if value % multiple != 0:
        return -1
    out[index] = value // multiple
    return at


@jit
def _flag(buf: Any, at: Any, stop: Any, out: Any, index: Any) -> Any:
    """`true` (1) or `false` (0); the position after it or -1."""
    if at + 4 <= stop and buf[at] == 116 and buf[at + 1] == 114 and buf[at + 2] == 117 and buf[at + 3] == 101:
        out[index] = 1
        return at + 4
    if (
        at + 5 <= stop
        and buf[at] == 102
        and buf[at + 1] == 97
        and buf[at + 2] == 108
        and buf[at + 3] == 115
        and buf[at + 4] == 101
    ):
        out[index] = 0
        return at + 5
    return -1
