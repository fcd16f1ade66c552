"""Batch parsing of flat Binance messages (bookTicker, trade) by exact byte templates, vectorized.

A line takes this path only if its bytes are *exactly* one of the templates below with number characters in
the slots: then it is valid JSON whose values are known without a JSON parser. Any other line (other key
order, whitespace, escapes, a field Binance may add) is left to the per-message parser, so the result is
always what the live path would produce. The templates are Binance's formats as seen in the captures.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from flashmm_engine.types import MarketSpec
from flashmm_engine.venues.binance.batch_digits import Ints, Mask, matches, runs_to_units, words
from flashmm_engine.venues.binance.batch_lines import Lines
from flashmm_engine.venues.binance.markets import BinanceMarket

BOOK_TICKER_TEMPLATES: dict[BinanceMarket, str] = {
    "spot": '{"stream":"%s@bookTicker","data":{"u":<u>,"s":"%S","b":"<b>","B":"<B>","a":"<a>","A":"<A>"}}',
    "usdm": '{"stream":"%s@bookTicker","data":{"e":"bookTicker","u":<u>,"s":"%S","b":"<b>","B":"<B>",'
    '"a":"<a>","A":"<A>","T":<T>,"E":<E>}}',
    "coinm": '{"stream":"%s@bookTicker","data":{"e":"bookTicker","u":<u>,"s":"%S","ps":"%P",'
    '"b":"<b>","B":"<B>","a":"<a>","A":"<A>","T":<T>,"E":<E>}}',
}
TRADE_TEMPLATES: dict[BinanceMarket, str] = {
    "spot": '{"stream":"%s@trade","data":{"e":"trade","E":<E>,"s":"%S","t":<t>,"p":"<p>","q":"<q>",'
    '"T":<T>,"m":?m?,"M":?M?}}',
    "usdm": '{"stream":"%s@trade","data":{"e":"trade","E":<E>,"T":<T>,"s":"%S","t":<t>,"p":"<p>","q":"<q>",'
    '"X":"MARKET","m":?m?}}',
    # COIN-M publishes aggregate trades: the aggregate id `a` fills the trade id slot
    "coinm": '{"stream":"%s@aggTrade","data":{"e":"aggTrade","E":<E>,"a":<t>,"s":"%S","p":"<p>","q":"<q>",'
    '"f":<f>,"l":<l>,"T":<T>,"m":?m?}}',
}
_SLOT = re.compile(r"<(\w+)>")
_FLAG = re.compile(r"\?(\w)\?")
_NUMBER_CHARS = re.compile(r"[0-9./]")


@dataclass(frozen=True)
class Template:
    pieces: tuple[bytes, ...]  # literal bytes around the slots: len(slots) + 1 pieces
    slots: tuple[str, ...]
    flags: dict[str, bool]  # boolean literals baked into this variant, e.g. {"m": True}


def templates(pattern: str, symbol: str) -> list[Template]:
    """Every true/false variant of `pattern` for `symbol`; none if the symbol holds number characters."""
    pair = symbol.upper().partition("_")[0]  # COIN-M's `ps`: the contract's underlying pair
    text = pattern.replace("%s", symbol.lower()).replace("%S", symbol.upper()).replace("%P", pair)
    names = _FLAG.findall(text)
    variants = []
    for values in itertools.product((True, False), repeat=len(names)):
        concrete = text
        for name, value in zip(names, values, strict=True):
            concrete = concrete.replace(f"?{name}?", "true" if value else "false")
        parts = _SLOT.split(concrete)
        pieces = tuple(p.encode() for p in parts[0::2])
        if any(_NUMBER_CHARS.search(p.decode()) for p in pieces):
            return []  # a slot boundary would be ambiguous: leave every line to the per-message parser
        variants.append(Template(pieces, tuple(parts[1::2]), dict(zip(names, values, strict=True))))
    return variants


def slot_steps(spec: MarketSpec) -> dict[str, Decimal | None]:
    """Units of each slot: prices in ticks, sizes in lots, everything else a bare JSON integer."""
    tick, lot = spec.tick_size, spec.lot_size
    return {"b": tick, "a": tick, "p": tick, "B": lot, "A": lot, "q": lot}


@dataclass
class FlatParse:
    matched: Mask  # per input line
    columns: dict[str, Ints]  # one value per matched line, in input order (flags as 0/1)


def parse_flat(
    lines: Lines, bodies: Ints, line_ends: Ints, variants: list[Template], steps: dict[str, Decimal | None]
) -> FlatParse:
    """Match each body (the raw message after `<ts_local_ns> `) against the template variants."""
    count = len(bodies)
    if not variants or not count:
        return FlatParse(np.zeros(count, dtype=np.bool_), {})
    first_run = lines.first_runs(bodies)
    runs_per_line = lines.first_runs(line_ends) - first_run
    variant_of_line = np.full(count, -1, dtype=np.int64)
    for index, variant in enumerate(variants):
        candidates = np.flatnonzero((runs_per_line == len(variant.slots)) & (variant_of_line < 0))
        run_index = first_run[candidates, None] + np.arange(len(variant.slots))
        ok = pieces_match(lines, variant, bodies[candidates], run_index, line_ends[candidates])
        variant_of_line[candidates[ok]] = index
    matched = variant_of_line >= 0
    matched_lines = np.flatnonzero(matched)
    base = variants[0]
    columns: dict[str, Ints] = {}
    for position, name in enumerate(base.slots):
        runs = first_run[matched_lines] + position
        values, valid = runs_to_units(
            lines.buf, lines.run_starts[runs], lines.run_ends[runs], steps.get(name)
        )
        columns[name] = values
        matched[matched_lines[~valid]] = False
    for name in base.flags:
        flag_of_variant = np.array([v.flags[name] for v in variants], dtype=np.int64)
        columns[name] = flag_of_variant[variant_of_line[matched_lines]]
    keep = matched[matched_lines]
    return FlatParse(matched, {name: column[keep] for name, column in columns.items()})


def pieces_match(lines: Lines, variant: Template, bodies: Ints, runs: Ints, line_ends: Ints | None) -> Mask:
    """Each literal piece before a slot (and with `line_ends` the last one, up to the end) is exact."""
    ok = np.ones(len(bodies), dtype=np.bool_)
    byte_words = words(lines.buf)
    piece_starts = np.concatenate([bodies[:, None], lines.run_ends[runs]], axis=1)
    piece_ends = lines.run_starts[runs]
    if line_ends is not None:
        piece_ends = np.concatenate([piece_ends, line_ends[:, None]], axis=1)
    for column in range(piece_ends.shape[1]):
        piece = variant.pieces[column]
        ok &= piece_ends[:, column] - piece_starts[:, column] == len(piece)
        ok &= matches(byte_words, piece_starts[:, column], piece)
    return ok
