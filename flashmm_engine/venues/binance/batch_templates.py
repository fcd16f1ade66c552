"""Binance's exact message layouts, compiled into programs for the batch scanner (`batch_scan`).

A line takes the batch path only if its bytes are *exactly* one of these layouts with plain numbers in the
slots: then it is valid JSON whose values are known without a JSON parser. Any other line (other key
order, whitespace, escapes, a field Binance may add) is left to the per-message parser, so the result is
always what the live path would produce. The layouts are Binance's formats as seen in the captures.

Layout syntax: `<x>` a JSON integer slot, `"<p>"` a decimal in quotes (prices in ticks, sizes in lots: see
`DECIMAL_UNITS`), `?m?` a `true`/`false` slot, `%s`/`%S` the symbol in lower/upper case, `%P` COIN-M's
pair, `%L` a depth diff's levels: `"b":[...],"a":[...]` with levels `["<price>","<size>"]`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from flashmm_engine.venues.binance.markets import BinanceMarket

Program = npt.NDArray[np.int64]

DEPTH_TEMPLATES: dict[BinanceMarket, str] = {
    "spot": '{"stream":"%s@%D","data":{"e":"depthUpdate","E":<E>,"s":"%S","U":<U>,"u":<u>,%L}}',
    "usdm": '{"stream":"%s@%D","data":{"e":"depthUpdate","E":<E>,"T":<T>,"s":"%S","U":<U>,"u":<u>,'
    '"pu":<pu>,%L}}',
    "coinm": '{"stream":"%s@%D","data":{"e":"depthUpdate","E":<E>,"T":<T>,"s":"%S","ps":"%P","U":<U>,'
    '"u":<u>,"pu":<pu>,%L}}',
}
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
DECIMAL_UNITS = {"b": 0, "a": 0, "p": 0, "B": 1, "A": 1, "q": 1}
"""Decimal slots: 0 in ticks, 1 in lots."""

# opcodes of a program row (op, a, b)
LITERAL = 0  # a: offset in the literal bytes, b: length
INTEGER = 1  # a: slot
DECIMAL = 2  # a: slot, b: 0 ticks / 1 lots
FLAG = 3  # a: slot
LEVELS = 4  # a: 0 bids / 1 asks
END = 5
_TOKEN = re.compile(r'"<(\w+)>"|<(\w+)>|\?(\w)\?|%L')
_NUMBER_CHARS = b"0123456789./"


@dataclass(frozen=True)
class Compiled:
    """One message layout: program rows, their literal bytes, and the slot names in slot order."""

    program: Program
    literals: bytes
    slots: tuple[str, ...]


def compile_layout(pattern: str, symbol: str, depth_stream: str = "") -> Compiled | None:
    """The program of `pattern` for `symbol`; None if a slot could run into a literal (number characters
    right after a slot), which would make the split ambiguous: such lines all take the per-message path."""
    pair = symbol.upper().partition("_")[0]  # COIN-M's `ps`: the contract's underlying pair
    text = pattern.replace("%s", symbol.lower()).replace("%S", symbol.upper()).replace("%P", pair)
    text = text.replace("%D", depth_stream)
    rows: list[tuple[int, int, int]] = []
    literals = bytearray()
    slots: list[str] = []

    def literal(piece: str) -> None:
        data = piece.encode()
        if data and rows and rows[-1][0] == LITERAL:  # adjacent pieces: one compare
            rows[-1] = (LITERAL, rows[-1][1], rows[-1][2] + len(data))
        elif data:
            rows.append((LITERAL, len(literals), len(data)))
        literals.extend(data)

    at = 0
    for token in _TOKEN.finditer(text):
        literal(text[at : token.start()])
        at = token.end()
        decimal, integer, flag = token.groups()
        if token.group() == "%L":
            literal('"b":[')
            rows.append((LEVELS, 0, 0))
            literal('],"a":[')
            rows.append((LEVELS, 1, 0))
            literal("]")
            continue
        name = decimal or integer or flag
        slots.append(name)
        if decimal:
            literal('"')
            rows.append((DECIMAL, len(slots) - 1, DECIMAL_UNITS[name]))
            literal('"')
        else:
            rows.append((INTEGER if integer else FLAG, len(slots) - 1, 0))
    literal(text[at:])
    rows.append((END, 0, 0))
    for row, after in itertools.pairwise(rows):
        if row[0] in (INTEGER, DECIMAL) and (after[0] != LITERAL or literals[after[1]] in _NUMBER_CHARS):
            return None
    return Compiled(np.array(rows, dtype=np.int64).reshape(-1, 3), bytes(literals), tuple(slots))


def link(layouts: list[Compiled | None]) -> tuple[Program, Program, bytes]:
    """(program rows, bounds, literals) of several layouts for `batch_scan.scan`: layout k is rows
    bounds[k, 0]..bounds[k, 1] (none for a missing layout), its literals moved to their offset."""
    rows: list[Program] = []
    bounds: list[tuple[int, int]] = []
    literals = b""
    for layout in layouts:
        low = sum(len(r) for r in rows)
        if layout is not None:
            moved = layout.program.copy()
            moved[moved[:, 0] == LITERAL, 1] += len(literals)
            rows.append(moved)
            literals += layout.literals
        bounds.append((low, sum(len(r) for r in rows)))
    program = np.concatenate(rows) if rows else np.zeros((0, 3), dtype=np.int64)
    return program, np.array(bounds, dtype=np.int64).reshape(-1, 2), literals
