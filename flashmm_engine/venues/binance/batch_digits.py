"""Vectorized, exact conversion of decimal text inside a byte buffer to integer units (numpy, no strings).

The batch feed path never turns a number into a Python string: it finds the runs of number characters
(`0-9` and `.`) in a buffer of raw JSON and converts each run to an integer number of steps in C loops.
A run that is not a plain non-negative decimal, or not a whole multiple of the step, or too long for int64,
is reported invalid, never rounded; callers send such a message to the per-message parser, which rejects it
with the same error the live path gives.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

Bytes = npt.NDArray[np.uint8]
Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Words = npt.NDArray[np.uint64]

DOT = 46
ZERO = 48
NINE = 57
MAX_POWER = 18
"""A digit worth more than 8 * 10**18 could overflow int64: such runs are left to the per-message parser."""
MAX_WIDTH = 24
"""Longer runs are left to the per-message parser."""
MARGIN = 64
"""Spaces around a buffer (at least MAX_WIDTH and the longest fixed piece read past a line's end)."""
SPACES = b" " * MARGIN
LAYOUT_SAMPLE = 32
SWAR_WIDTH = 16
"""Runs up to this long are converted two 8-byte words at a time (`_swar_units`)."""
MAX_INT64 = 2**63 - 1
ASCII_ZEROS = np.uint64(0x3030303030303030)
ALL_BYTES = np.uint64(0xFFFFFFFFFFFFFFFF)
BYTE_HALF_MINUS_TEN = np.uint64(0x7676767676767676)  # + this sets a byte's high bit iff it was >= 10
BYTE_HIGH_BITS = np.uint64(0x8080808080808080)
POWERS = np.array([10**p for p in range(MAX_POWER + 1)], dtype=np.int64)


def padded(data: bytes) -> bytes:
    """`data` with `MARGIN` spaces on both sides: every run has `MAX_WIDTH` bytes before its end, no run or
    fixed-width read touches the buffer's edges."""
    return SPACES + data + SPACES


def number_runs(buf: Bytes) -> tuple[Ints, Ints]:
    """Start and end (exclusive) offsets of every maximal run of `.`, `/`, `0-9` in a `padded` buffer."""
    # one compare: bytes 46..57 are '.', '/' and the digits; a '/' in a run makes it invalid downstream
    is_number = buf - np.uint8(DOT) <= np.uint8(NINE - DOT)
    edges = np.flatnonzero(is_number[1:] != is_number[:-1]) + 1
    return edges[0::2], edges[1::2]


def windows(buf: Bytes, width: int, ends: Ints) -> Bytes:
    """The `width` bytes before each end offset, one row per offset (a cheap strided gather)."""
    return sliding_window_view(buf, width)[ends - width]


def words(buf: Bytes) -> Words:
    """The 8 bytes starting at every offset as one little-endian integer (an overlapping strided view)."""
    return np.ndarray(shape=(len(buf) - 7,), dtype="<u8", buffer=buf, strides=(1,))


def matches(byte_words: Words, offsets: Ints, pattern: bytes) -> Mask:
    """Whether `pattern` is at each offset: one masked 8-byte compare per 8 bytes of pattern."""
    ok = np.ones(len(offsets), dtype=np.bool_)
    if len(offsets) and int(offsets.max()) + len(pattern) > len(byte_words):
        offsets = np.minimum(offsets, len(byte_words) - len(pattern))  # only junk offsets reach this far
    for at in range(0, len(pattern), 8):
        chunk = pattern[at : at + 8]
        found = byte_words[offsets + at] if at else byte_words[offsets]
        if len(chunk) < 8:
            found &= np.uint64((1 << (8 * len(chunk))) - 1)
        ok &= found == np.uint64(int.from_bytes(chunk, "little"))
    return ok


def step_units(step: Decimal) -> tuple[int, int]:
    """(decimals, multiple): a value is `multiple` units of `10**-decimals` per step (0.05 -> (2, 5))."""
    exponent = step.normalize().as_tuple().exponent
    if step <= 0 or not isinstance(exponent, int):
        raise ValueError(f"step must be a positive finite decimal, got {step}")
    decimals = max(0, -exponent)
    return decimals, int(step.scaleb(decimals))


def runs_to_units(buf: Bytes, starts: Ints, ends: Ints, step: Decimal | None) -> tuple[Ints, Mask]:
    """Each run as a whole number of `step` (None: a bare JSON integer). Returns (units, valid).

    Runs are read right-aligned into a fixed-width byte matrix, so each column has one weight when every run
    has the same number of fraction digits (venues format a field uniformly). Runs in another layout than the
    most common one are reported invalid: the caller's per-message fallback handles them exactly.
    """
    count = len(starts)
    decimals, multiple = (0, 1) if step is None else step_units(step)
    if count == 0:
        return np.zeros(0, dtype=np.int64), np.ones(0, dtype=np.bool_)
    lengths = ends - starts
    width = int(min(max(lengths.max(), 1), MAX_WIDTH))
    layout = -1 if step is None else _common_layout(buf, starts, ends)
    if width <= SWAR_WIDTH:
        scaled, valid = _swar_units(buf, ends, lengths, layout, decimals)
        if step is None:  # a JSON integer: no leading zero
            valid &= (lengths == 1) | (buf[starts] != ZERO)
        if multiple != 1:
            valid &= scaled % multiple == 0
            scaled //= multiple
        return scaled, valid
    inside = np.arange(width) >= width - lengths[:, None]
    digits = np.where(inside, windows(buf, width, ends) - np.uint8(ZERO), np.uint8(0))
    valid = (lengths > 0) & (lengths <= MAX_WIDTH)
    if layout >= 0:
        dot = width - 1 - layout
        valid &= (digits[:, dot] == np.uint8(DOT - ZERO + 256)) & (lengths >= layout + 2)
        digits[:, dot] = 0
    valid &= ~(digits > 9).any(axis=1)  # anything but digits (a second dot, '/') is not a number
    powers = _column_powers(width, layout, decimals)
    if (powers < 0).any():  # digits finer than the step must be zeros: never rounded
        valid &= ~digits[:, powers < 0].any(axis=1)
    if (powers >= MAX_POWER).any():
        valid &= ~digits[:, powers > MAX_POWER].any(axis=1) & (digits[:, powers == MAX_POWER] <= 8).all(
            axis=1
        )
    weights = np.where((powers >= 0) & (powers <= MAX_POWER), POWERS[np.clip(powers, 0, MAX_POWER)], 0)
    scaled = digits @ weights
    if step is None:  # a JSON integer: no leading zero
        valid &= (lengths == 1) | (buf[starts] != ZERO)
    if multiple != 1:
        valid &= scaled % multiple == 0
        scaled //= multiple
    return scaled, valid


def _swar_units(buf: Bytes, ends: Ints, lengths: Ints, layout: int, decimals: int) -> tuple[Ints, Mask]:
    """`runs_to_units` for runs of at most 16 bytes: two 8-byte words per run, digits combined in-register.

    The dot (at the layout's place) is read as a zero digit and cut out arithmetically afterwards.
    """
    byte_words = words(buf)
    low, high = byte_words[ends - 8] ^ ASCII_ZEROS, byte_words[ends - 16] ^ ASCII_ZEROS  # digits 0-9
    low_bytes = np.minimum(lengths, 8).astype(np.uint64)
    high_bytes = np.clip(lengths - 8, 0, 8).astype(np.uint64)
    low &= ALL_BYTES << (np.uint64(8) * (np.uint64(8) - low_bytes))  # keep only the run's own bytes
    high &= np.where(high_bytes > 0, ALL_BYTES << (np.uint64(8) * (np.uint64(8) - high_bytes)), 0)
    valid = lengths > 0
    if layout >= 0:
        word, shift = (low, 7 - layout) if layout < 8 else (high, 15 - layout)
        at = np.uint64(8 * shift)
        valid &= ((word >> at) & np.uint64(0xFF)) == np.uint64(DOT ^ ZERO)
        valid &= lengths >= layout + 2  # a whole part before the dot
        word &= ~(np.uint64(0xFF) << at)
    for word in (low, high):  # every byte a digit: nothing >= 10
        valid &= ((word + BYTE_HALF_MINUS_TEN) & BYTE_HIGH_BITS) == 0
    value = (_eight_digits(high) * np.uint64(10**8) + _eight_digits(low)).astype(np.int64)
    fraction = max(layout, 0)
    if layout >= 0:
        unit = 10**fraction
        value = value // (10 * unit) * unit + value % unit
    if fraction > decimals:  # digits finer than the step must be zeros: never rounded
        finer = 10 ** (fraction - decimals)
        valid &= value % finer == 0
        value //= finer
    elif decimals > fraction:
        factor = 10 ** (decimals - fraction)
        valid &= value <= MAX_INT64 // factor
        value = np.where(valid, value, 0) * factor
    return value, valid


def _eight_digits(word: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Eight digit bytes (first digit in the lowest byte) as one number, by the classic SWAR steps."""
    word = ((word & np.uint64(0x0F0F0F0F0F0F0F0F)) * np.uint64(2561)) >> np.uint64(8)
    word = ((word & np.uint64(0x00FF00FF00FF00FF)) * np.uint64(6553601)) >> np.uint64(16)
    return ((word & np.uint64(0x0000FFFF0000FFFF)) * np.uint64(42949672960001)) >> np.uint64(32)


def _common_layout(buf: Bytes, starts: Ints, ends: Ints) -> int:
    """The most common number of fraction digits among the first runs (-1: no dot)."""
    layouts: Counter[int] = Counter()
    for start, end in zip(starts[:LAYOUT_SAMPLE].tolist(), ends[:LAYOUT_SAMPLE].tolist(), strict=True):
        text = buf[start:end].tobytes()
        dot = text.find(b".")
        layouts[-1 if dot < 0 else len(text) - 1 - dot] += 1
    return layouts.most_common(1)[0][0]


def _column_powers(width: int, fraction_digits: int, decimals: int) -> Ints:
    """Power of ten in units of 10**-decimals of each right-aligned column (the dot column gets -1)."""
    from_end = np.arange(width - 1, -1, -1, dtype=np.int64)
    if fraction_digits < 0:
        return from_end + decimals
    whole = from_end > fraction_digits
    return np.where(whole, from_end - fraction_digits - 1 + decimals, decimals - (fraction_digits - from_end))
