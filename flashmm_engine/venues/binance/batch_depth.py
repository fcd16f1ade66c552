"""Batch parsing of Binance depth diffs in their exact published layout, vectorized over a whole capture.

After the stream prefix (checked by the caller), a diff must be exactly the header template below and then
`,"b":[` bid levels `],"a":[` ask levels `]}}`, each level `["<number>","<number>"]`. Every byte outside the
number runs is checked, so an accepted line is valid JSON with exactly these values, and the header gets the
checks `MessageParser` makes. A line in any other shape gets None and goes to the per-message parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from flashmm_engine.marketdata.records import DepthDiff
from flashmm_engine.types import NS_PER_MS
from flashmm_engine.venues.binance.batch_digits import Ints, Mask, Words, matches, runs_to_units, words
from flashmm_engine.venues.binance.batch_flat import Template, pieces_match, templates
from flashmm_engine.venues.binance.batch_lines import Lines
from flashmm_engine.venues.binance.markets import BinanceMarket
from flashmm_engine.venues.binance.messages import MAX_EXCHANGE_MS

HEADER_TEMPLATES: dict[BinanceMarket, str] = {
    "spot": '"data":{"e":"depthUpdate","E":<E>,"s":"%S","U":<U>,"u":<u>',
    "usdm": '"data":{"e":"depthUpdate","E":<E>,"T":<T>,"s":"%S","U":<U>,"u":<u>,"pu":<pu>',
    "coinm": '"data":{"e":"depthUpdate","E":<E>,"T":<T>,"s":"%S","ps":"%P","U":<U>,"u":<u>,"pu":<pu>',
}
TAIL_BIDS = b',"b":[["'  # after the header, when bid levels follow
TAIL_ASKS_ONLY = b',"b":[],"a":[["'
TAIL_EMPTY = b',"b":[],"a":[]}}'
PAIR = b'","'  # after a price
NEXT_LEVEL = b'"],["'  # after a size, more levels on the same side
TO_ASKS = b'"]],"a":[["'  # after the last bid size, when ask levels follow
END_NO_ASKS = b'"]],"a":[]}}'  # after the last bid size, no asks: the end of the line
END = b'"]]}}'  # after the last ask size: the end of the line


def header_template(market: BinanceMarket, symbol: str) -> Template | None:
    variants = templates(HEADER_TEMPLATES[market], symbol)
    return variants[0] if variants else None


@dataclass
class _Levels:
    ok: Mask  # per line
    prices: Ints  # all levels of all lines, in line order, bids before asks
    sizes: Ints
    counts: Ints  # levels per line
    bid_counts: Ints


@dataclass
class DepthParse:
    diffs: list[DepthDiff | None]  # None: not taken, for the per-message parser
    prices: Ints  # every level of every line, see DepthDiff.levels_at
    sizes: Ints


def parse_depth(
    lines: Lines,
    bodies: Ints,
    line_ends: Ints,
    stamps: list[int],
    header: Template | None,
    steps: tuple[Decimal, Decimal],
) -> DepthParse:
    """Diffs of the lines whose message (after the stream prefix) spans `bodies`..`line_ends`."""
    count = len(bodies)
    if header is None or not count:
        return DepthParse([None] * count, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    byte_words = words(lines.buf)
    first = lines.first_runs(bodies)
    slots = len(header.slots)
    level_runs = lines.first_runs(line_ends) - first - slots
    ok = level_runs >= 0
    first, level_runs = np.where(ok, first, 0), np.where(ok, level_runs, 0)
    run_index = np.minimum(first[:, None] + np.arange(slots), len(lines.run_starts) - 1)
    ok &= pieces_match(lines, header, bodies, run_index, None)
    values = {}
    for position, name in enumerate(header.slots):
        runs = run_index[:, position]
        values[name], valid = runs_to_units(lines.buf, lines.run_starts[runs], lines.run_ends[runs], None)
        ok &= valid
    ok &= (values["U"] <= values["u"]) & (values["E"] <= MAX_EXCHANGE_MS)
    tail_start = lines.run_ends[run_index[:, -1]]
    next_start = lines.run_starts[np.minimum(first + slots, len(lines.run_starts) - 1)]
    tail = np.where(level_runs > 0, next_start, line_ends) - tail_start
    asks_only = (tail == len(TAIL_ASKS_ONLY)) & matches(byte_words, tail_start, TAIL_ASKS_ONLY)
    bids_first = (tail == len(TAIL_BIDS)) & matches(byte_words, tail_start, TAIL_BIDS)
    empty = (tail == len(TAIL_EMPTY)) & (level_runs == 0) & matches(byte_words, tail_start, TAIL_EMPTY)
    ok &= ((asks_only | bids_first) & (level_runs > 0) & (level_runs % 2 == 0)) | empty
    level_runs = np.where(ok, level_runs, 0)
    levels = _levels(lines, byte_words, first + slots, level_runs, line_ends, asks_only, steps)
    return DepthParse(_diffs(ok & levels.ok, stamps, values, levels), levels.prices, levels.sizes)


def _levels(
    lines: Lines,
    byte_words: Words,
    first: Ints,
    level_runs: Ints,
    line_ends: Ints,
    asks_only: Mask,
    steps: tuple[Decimal, Decimal],
) -> _Levels:
    """Levels of lines whose (even) `level_runs` number runs from `first` on are price, size, price, ..."""
    count, counts = len(first), level_runs // 2
    stops = np.cumsum(counts)
    total = int(stops[-1]) if count else 0
    line_of_level = np.repeat(np.arange(count), counts)
    level_in_line = np.arange(total) - (stops - counts)[line_of_level]
    last = np.zeros(total, dtype=np.bool_)
    last[stops[counts > 0] - 1] = True
    price_runs = first[line_of_level] + 2 * level_in_line
    size_runs = price_runs + 1
    starts, ends = lines.run_starts, lines.run_ends
    price_end, size_start, size_end = ends[price_runs], starts[size_runs], ends[size_runs]
    level_ok = (size_start - price_end == len(PAIR)) & matches(byte_words, price_end, PAIR)
    following = np.where(last, line_ends[line_of_level], starts[np.minimum(size_runs + 1, len(starts) - 1)])
    gap = following - size_end
    next_level = ~last & (gap == len(NEXT_LEVEL)) & matches(byte_words, size_end, NEXT_LEVEL)
    other = np.flatnonzero(~next_level)  # few: a side's last level
    to_asks = other[
        ~last[other] & (gap[other] == len(TO_ASKS)) & matches(byte_words, size_end[other], TO_ASKS)
    ]
    ending = other[last[other]]
    ends_asks = ending[(gap[ending] == len(END)) & matches(byte_words, size_end[ending], END)]
    ends_bids = ending[(gap[ending] == len(END_NO_ASKS)) & matches(byte_words, size_end[ending], END_NO_ASKS)]
    gap_ok = next_level
    gap_ok[to_asks] = gap_ok[ends_asks] = gap_ok[ends_bids] = True
    switches = np.bincount(line_of_level[to_asks], minlength=count)
    ask_started = asks_only | (switches == 1)
    ending_ok = np.zeros(count, dtype=np.bool_)
    ending_ok[line_of_level[ends_asks]] = ask_started[line_of_level[ends_asks]]
    ending_ok[line_of_level[ends_bids]] = ~ask_started[line_of_level[ends_bids]]
    tick, lot = steps
    prices, price_ok = runs_to_units(lines.buf, starts[price_runs], price_end, tick)
    sizes, size_ok = runs_to_units(lines.buf, size_start, size_end, lot)
    bad_levels = np.bincount(line_of_level[~(level_ok & gap_ok & price_ok & size_ok)], minlength=count)
    ok = (bad_levels == 0) & (switches <= 1) & ~(asks_only & (switches > 0)) & ((counts == 0) | ending_ok)
    switch_level = np.zeros(count, dtype=np.int64)
    switch_level[line_of_level[to_asks]] = level_in_line[to_asks] + 1
    bid_counts = np.where(asks_only, 0, np.where(switches == 1, switch_level, counts))
    return _Levels(ok, prices, sizes, counts, bid_counts)


def _diffs(ok: Mask, stamps: list[int], values: dict[str, Ints], levels: _Levels) -> list[DepthDiff | None]:
    """The accepted lines' diffs, each with its `levels_at` in `levels.prices` / `levels.sizes`."""
    prices, sizes = levels.prices.tolist(), levels.sizes.tolist()
    stops = np.cumsum(levels.counts)
    starts = (stops - levels.counts).tolist()
    middles = (stops - levels.counts + levels.bid_counts).tolist()
    ends = stops.tolist()
    previous = values["pu"].tolist() if "pu" in values else [-1] * len(ok)
    diffs: list[DepthDiff | None] = list(
        map(
            DepthDiff,
            stamps,
            (values["E"] * NS_PER_MS).tolist(),
            values["U"].tolist(),
            values["u"].tolist(),
            previous,
            [prices[low:middle] for low, middle in zip(starts, middles, strict=True)],
            [sizes[low:middle] for low, middle in zip(starts, middles, strict=True)],
            [prices[middle:high] for middle, high in zip(middles, ends, strict=True)],
            [sizes[middle:high] for middle, high in zip(middles, ends, strict=True)],
            starts,
        )
    )
    for index in np.flatnonzero(~ok).tolist():
        diffs[index] = None
    return diffs
