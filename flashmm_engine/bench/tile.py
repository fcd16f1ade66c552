"""A long Binance capture made of copies of a short one, laid end to end.

Copy 0 is the original. Every later copy is the original's lines after its REST snapshot, with every time
shifted by whole copy-lengths (local stamps in ns, exchange times `E`/`T` in ms), every update id (`U`,
`u`, `pu`, `lastUpdateId`) by whole id-spans and every trade id (`t`) by whole trade-id spans, led by one
bridge diff: the depth update that turns the book at the end of a copy back into the book just after the
original's snapshot was applied. So the sync rules hold across every join (the bridge chains onto the last
diff of the copy before, and the copy's first diff chains onto the bridge: spot `U` = previous `u` + 1,
futures `pu` = previous `u`), the book never crosses, and it stays in sync to the end without another
snapshot, as a live feed's would.

Numbers are rewritten in place, digit by digit over the whole text at once (vectorized); a shift that would
change a number's width is refused (the text would not be the same shape).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from numpy.typing import NDArray

from flashmm_engine.errors import InputError
from flashmm_engine.marketdata.book import OrderBook
from flashmm_engine.marketdata.normalize import NormalizedTables
from flashmm_engine.types import NS_PER_MS

GAP_NS = 1_000 * NS_PER_MS
"""Quiet time between two copies (no line of copy k + 1 shares a stamp with copy k)."""
STAMP_DIGITS = 19
MAX_INT64_DIGITS = 19
FIELD = re.compile(rb'"(E|T|U|u|pu|t|lastUpdateId)":(\d+)')
TIME_MS, UPDATE_ID, TRADE_ID, STAMP_NS = 0, 1, 2, 3
KIND_OF = {b"E": TIME_MS, b"T": TIME_MS, b"U": UPDATE_ID, b"u": UPDATE_ID, b"pu": UPDATE_ID}
KIND_OF |= {b"lastUpdateId": UPDATE_ID, b"t": TRADE_ID}


class TileError(InputError):
    """The capture cannot be tiled (no depth diffs, no stamps, or a number would change width)."""


@dataclass(frozen=True)
class Numbers:
    """The numbers of a text that copies shift, and where their digits end."""

    text: NDArray[np.uint8]
    ends: NDArray[np.int64]
    widths: NDArray[np.int64]
    values: NDArray[np.int64]
    kinds: NDArray[np.int64]

    @classmethod
    def of(cls, text: bytes) -> Numbers:
        ends: list[int] = []
        values: list[int] = []
        kinds: list[int] = []
        offset = 0
        for line in text.splitlines(keepends=True):
            stamp = line[:STAMP_DIGITS]
            if len(line) > STAMP_DIGITS and stamp.isdigit() and line[STAMP_DIGITS : STAMP_DIGITS + 1] == b" ":
                ends.append(offset + STAMP_DIGITS)
                values.append(int(stamp))
                kinds.append(STAMP_NS)
            for match in FIELD.finditer(line):
                ends.append(offset + match.end(2))
                values.append(int(match.group(2)))
                kinds.append(KIND_OF[match.group(1)])
            offset += len(line)
        return cls(
            text=np.frombuffer(text, dtype=np.uint8).copy(),
            ends=np.asarray(ends, dtype=np.int64),
            widths=np.asarray([len(str(v)) for v in values], dtype=np.int64),
            values=np.asarray(values, dtype=np.int64),
            kinds=np.asarray(kinds, dtype=np.int64),
        )

    def shifted(self, shifts: NDArray[np.int64], k: int) -> bytes:
        values = self.values + k * shifts[self.kinds]
        widest = np.iinfo(np.int64).max
        limits = np.where(self.widths >= MAX_INT64_DIGITS, widest, 10 ** np.minimum(self.widths, 18))
        if (values >= limits).any():
            raise TileError(f"copy {k}: a shifted number would gain a digit")
        out = self.text.copy()
        for digit in range(int(self.widths.max()) if len(self.widths) else 0):
            has = self.widths > digit
            out[self.ends[has] - 1 - digit] = 48 + (values[has] // 10**digit) % 10
        return out.tobytes()


@dataclass(frozen=True)
class Tiler:
    original: Numbers
    body: Numbers  # the bridge diff, then the original's lines after its snapshot
    shifts: NDArray[np.int64]  # per kind: the shift of one copy
    copy_ns: int

    @classmethod
    def of(cls, text: bytes, tables: NormalizedTables, market: str, depth_stream: str) -> Tiler:
        """`tables`: the original normalized (for the book just after its snapshot and at its end);
        `depth_stream`: the capture's diff stream (e.g. "depth@100ms"), which the bridge diff joins."""
        cut = _after_snapshot(text)
        body_text = text[cut:]
        stamps = [
            int(line[:STAMP_DIGITS]) for line in body_text.splitlines() if line[:STAMP_DIGITS].isdigit()
        ]
        deltas, snapshot = tables.book_delta, tables.book_snapshot
        if not stamps or not len(deltas) or not len(snapshot):
            raise TileError("the capture has no snapshot with stamped depth diffs after it to tile")
        synced_at = int(snapshot["ts_local"].iloc[0])
        pending = deltas[deltas["ts_local"] == synced_at]
        synced_id = int(pending["seq"].max()) if len(pending) else int(snapshot["seq"].iloc[0])
        last_id = int(deltas["seq"].iloc[-1])
        # the bridge's ids run past every id of the copy before (a bookTicker may be ahead of the diffs)
        seen = max(last_id, int(tables.top_of_book["seq"].max()) if len(tables.top_of_book) else 0)
        id_shift = seen + 1 - synced_id
        span_ms = -(-(max(stamps) - min(stamps)) // NS_PER_MS)
        copy_ns = span_ms * NS_PER_MS + GAP_NS
        trade_ids = tables.trade["trade_id"]
        trade_shift = int(trade_ids.max() - trade_ids.min() + 1) if len(trade_ids) else 0
        shifts = np.array([copy_ns // NS_PER_MS, id_shift, trade_shift, copy_ns], dtype=np.int64)
        # as rendered in copy k: halfway through the gap, chained onto copy k - 1's last diff
        ids = (last_id - id_shift, synced_id)
        bridge = _bridge(tables, market, depth_stream, min(stamps) - GAP_NS // 2, ids)
        return cls(Numbers.of(text), Numbers.of(bridge + body_text), shifts, copy_ns)

    def copy(self, k: int) -> bytes:
        """Copy k of the capture (k = 0 is the original, with its snapshot)."""
        return self.original.shifted(self.shifts, 0) if k == 0 else self.body.shifted(self.shifts, k)

    def copies_for(self, seconds: float) -> int:
        return max(1, -(-round(seconds * 1e9) // self.copy_ns))


def _after_snapshot(text: bytes) -> int:
    at = text.find(b' {"lastUpdateId":')
    if at < 0:
        raise TileError("the capture has no REST snapshot line")
    end = text.find(b"\n", at)
    return len(text) if end < 0 else end + 1


def _bridge(tables: NormalizedTables, market: str, stream: str, ts_local: int, ids: tuple[int, int]) -> bytes:
    """The diff (as a line, before shifting) that makes the book at the original's end the book just after
    its snapshot: levels gone since are set to zero, the rest to their size then. `ids`: the last diff's id
    one copy back (the bridge chains onto it) and the bridge's final id (the next copy chains onto that)."""
    previous_id, final_id = ids
    start, end = OrderBook(), OrderBook()
    snapshot = tables.book_snapshot
    synced_at = int(snapshot["ts_local"].iloc[0])
    rows = list(
        zip(snapshot["side"].tolist(), snapshot["price"].tolist(), snapshot["size"].tolist(), strict=True)
    )
    for book in (start, end):
        book.load([(p, s) for side, p, s in rows if side == 1], [(p, s) for side, p, s in rows if side == -1])
    deltas = tables.book_delta
    columns = (deltas[name].tolist() for name in ("ts_local", "side", "price", "size"))
    for ts, side, price, size in zip(*columns, strict=True):
        end.set_level(side, price, size)
        if ts == synced_at:
            start.set_level(side, price, size)
    tick, lot = tables.spec.tick_size, tables.spec.lot_size
    sides = []
    for was, now in ((end.bids, start.bids), (end.asks, start.asks)):
        changed = {p: now.get(p, 0) for p in set(was) | set(now) if was.get(p) != now.get(p)}
        sides.append(
            ",".join(f'["{_decimal(p, tick)}","{_decimal(s, lot)}"]' for p, s in sorted(changed.items()))
        )
    ms = ts_local // NS_PER_MS
    symbol = tables.instrument.symbol
    header = f'"e":"depthUpdate","E":{ms},'
    if market == "spot":
        header += f'"s":"{symbol}","U":{previous_id + 1},"u":{final_id}'
    else:
        header += f'"T":{ms},"s":"{symbol}","U":{previous_id + 1},"u":{final_id},"pu":{previous_id}'
    data = f'{{"stream":"{symbol.lower()}@{stream}","data":{{{header},"b":[{sides[0]}],"a":[{sides[1]}]}}}}'
    return f"{ts_local} {data}\n".encode()


def _decimal(units: int, step: Decimal) -> str:
    return format(Decimal(units) * step, "f")


def segments(tiler: Tiler, hours: float, segment_s: float = 3600.0) -> Iterator[list[int]]:
    """The copy indices of each segment of about `segment_s` of market time, covering `hours`."""
    total = tiler.copies_for(hours * 3600)
    per_segment = tiler.copies_for(segment_s)
    for start in range(0, total, per_segment):
        yield list(range(start, min(start + per_segment, total)))
