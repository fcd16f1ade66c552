"""The batch feed path for whole capture files: parse every line of a capture at once, vectorized.

Lines are routed by cheap prefix checks; depth diffs, bookTickers and trades in Binance's exact formats are
parsed by `batch_depth` / `batch_flat` without a Python object per number; every other line (the REST
snapshot, other formats, anything malformed) goes through the per-message `MessageParser`, so errors are
classified exactly as on the live path. `FeedProcessor.on_batch` then runs the same sync and book code as
the live connector over the result, in file order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from flashmm_engine.marketdata.capture import parse_stamp
from flashmm_engine.marketdata.records import BookTicker, DepthDiff, DepthSnapshot, TradeMessage
from flashmm_engine.types import NS_PER_MS, MarketSpec
from flashmm_engine.venues.binance.batch_depth import header_template, parse_depth
from flashmm_engine.venues.binance.batch_digits import Ints, Mask, matches, words
from flashmm_engine.venues.binance.batch_flat import (
    BOOK_TICKER_TEMPLATES,
    TRADE_TEMPLATES,
    Template,
    parse_flat,
    slot_steps,
    templates,
)
from flashmm_engine.venues.binance.batch_lines import STAMP_DIGITS, Lines, index_lines, stamps
from flashmm_engine.venues.binance.markets import DEPTH_STREAMS, TRADE_STREAMS, BinanceMarket
from flashmm_engine.venues.binance.messages import MAX_EXCHANGE_MS, MalformedMessage, MessageParser

BookItem = DepthDiff | DepthSnapshot | MalformedMessage
DEPTH, TICKER, TRADE = 0, 1, 2
TICKER_COLUMNS = (
    "line",
    "ts_local",
    "ts_exchange",
    "update_id",
    "bid_price",
    "bid_size",
    "ask_price",
    "ask_size",
)
TRADE_COLUMNS = ("line", "ts_local", "ts_exchange", "price", "size", "buyer_is_maker", "trade_id")


@dataclass
class ParsedBatch:
    messages: int = 0
    book: list[tuple[int, int, BookItem]] = field(default_factory=list)  # (line, ts_local, item), file order
    tickers: dict[str, Ints] = field(default_factory=dict)  # TICKER_COLUMNS, file order
    trades: dict[str, Ints] = field(default_factory=dict)  # TRADE_COLUMNS, file order
    level_prices: Ints = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # see DepthDiff.levels_at
    level_sizes: Ints = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


class BatchParser:
    """Parses a capture's text of one market in bulk into book items plus ticker and trade columns."""

    def __init__(
        self, market: BinanceMarket, spec: MarketSpec, symbol: str, depth_stream: str | None = None
    ) -> None:
        """`depth_stream`: the diff stream's name suffix in this capture (e.g. "depth@500ms"); lines of any
        other depth stream take the per-message path."""
        self.parser = MessageParser(spec, symbol)
        self.spec = spec
        lower = symbol.lower()
        self._prefixes = {
            DEPTH: f'{{"stream":"{lower}@{depth_stream or DEPTH_STREAMS[market]}",'.encode(),
            TICKER: f'{{"stream":"{lower}@bookTicker",'.encode(),
            TRADE: f'{{"stream":"{lower}@{TRADE_STREAMS[market]}",'.encode(),
        }
        self._depth_header = header_template(market, symbol)
        # the stream prefix is checked when lines are routed: templates start right after it
        self._templates = {
            TICKER: _after(templates(BOOK_TICKER_TEMPLATES[market], symbol), self._prefixes[TICKER]),
            TRADE: _after(templates(TRADE_TEMPLATES[market], symbol), self._prefixes[TRADE]),
        }

    def parse(self, text: bytes) -> ParsedBatch:
        """Every line of a capture's text (`<ts_local_ns> <raw>` lines), in file order."""
        lines = index_lines(text)
        stamp, regular = stamps(lines)
        kinds = self._kinds(lines, regular)
        other = [int(i) for i in np.flatnonzero(kinds < 0)]
        book: list[tuple[int, int, BookItem]] = []
        depth = np.flatnonzero(kinds == DEPTH)
        depth_stamps = stamp[depth].tolist()
        after_prefix = _bodies(lines, depth) + len(self._prefixes[DEPTH])
        steps = (self.spec.tick_size, self.spec.lot_size)
        parsed = parse_depth(lines, after_prefix, lines.ends[depth], depth_stamps, self._depth_header, steps)
        for index, ts_local, diff in zip(depth.tolist(), depth_stamps, parsed.diffs, strict=True):
            if diff is None:
                other.append(index)
            else:
                book.append((index, ts_local, diff))
        tickers = self._flat(lines, np.flatnonzero(kinds == TICKER), stamp, TICKER, other)
        trades = self._flat(lines, np.flatnonzero(kinds == TRADE), stamp, TRADE, other)
        slow_tickers, slow_trades = self._parse_slow(lines, sorted(other), book)
        book.sort(key=lambda item: item[0])
        return ParsedBatch(
            messages=len(lines.starts),
            book=book,
            level_prices=parsed.prices,
            level_sizes=parsed.sizes,
            tickers=_merge(tickers, slow_tickers, TICKER_COLUMNS),
            trades=_merge(trades, slow_trades, TRADE_COLUMNS),
        )

    def _kinds(self, lines: Lines, regular: Mask) -> Ints:
        """DEPTH, TICKER or TRADE for lines with our stream's exact prefix, else -1 (per-message path)."""
        kinds = np.full(len(lines.starts), -1, dtype=np.int64)
        bodies = _bodies(lines, np.arange(len(lines.starts)))
        byte_words = words(lines.buf)
        for kind, prefix in self._prefixes.items():
            at = np.flatnonzero(regular & (kinds < 0) & (lines.ends - bodies >= len(prefix)))
            kinds[at[matches(byte_words, bodies[at], prefix)]] = kind
        return kinds

    def _flat(self, lines: Lines, at: Ints, stamp: Ints, kind: int, other: list[int]) -> dict[str, Ints]:
        """Columns of the lines that match a template; the rest join `other` for the per-message parser."""
        after_prefix = _bodies(lines, at) + len(self._prefixes[kind])
        flat = parse_flat(lines, after_prefix, lines.ends[at], self._templates[kind], slot_steps(self.spec))
        matched, values = flat.matched, flat.columns
        exchange_slot = "E" if kind == TICKER else "T"
        if exchange_slot in values:
            in_range = values[exchange_slot] <= MAX_EXCHANGE_MS
            matched[np.flatnonzero(matched)[~in_range]] = False
            values = {name: column[in_range] for name, column in values.items()}
        other += at[~matched].tolist()
        build = self._tickers if kind == TICKER else self._trades
        return build(at[matched], stamp[at[matched]], values)

    def _tickers(self, line: Ints, stamps: Ints, values: dict[str, Ints]) -> dict[str, Ints]:
        if not len(line):
            return {name: np.zeros(0, dtype=np.int64) for name in TICKER_COLUMNS}
        exchange = values["E"] * NS_PER_MS if "E" in values else stamps  # spot bookTicker has no E
        names = ("update_id", "bid_price", "bid_size", "ask_price", "ask_size")
        return {
            "line": line,
            "ts_local": stamps,
            "ts_exchange": exchange,
            **{name: values[slot] for name, slot in zip(names, ("u", "b", "B", "a", "A"), strict=True)},
        }

    def _trades(self, line: Ints, stamps: Ints, values: dict[str, Ints]) -> dict[str, Ints]:
        if not len(line):
            return {name: np.zeros(0, dtype=np.int64) for name in TRADE_COLUMNS}
        names = ("ts_exchange", "price", "size", "buyer_is_maker", "trade_id")
        slots = (values["T"] * NS_PER_MS, values["p"], values["q"], values["m"], values["t"])
        return {"line": line, "ts_local": stamps, **dict(zip(names, slots, strict=True))}

    def _parse_slow(
        self, lines: Lines, other: list[int], book: list[tuple[int, int, BookItem]]
    ) -> tuple[list[tuple[int, BookTicker]], list[tuple[int, TradeMessage]]]:
        """Lines the fast paths did not take, exactly as `FeedProcessor.on_lines` treats them."""
        tickers: list[tuple[int, BookTicker]] = []
        trades: list[tuple[int, TradeMessage]] = []
        for index in other:
            line = lines.line(index)
            stamp, sep, raw = line.partition(b" ")
            ts_local = parse_stamp(stamp)
            if not (sep and raw) or ts_local is None:
                detail = f"not '<ts_local_ns> <raw>': {line[:60]!r}"
                book.append((index, 0, MalformedMessage("bad_line", detail)))
                continue
            try:
                message = self.parser.parse(ts_local, raw)
            except MalformedMessage as exc:
                book.append((index, ts_local, exc))
                continue
            if isinstance(message, BookTicker):
                tickers.append((index, message))
            elif isinstance(message, TradeMessage):
                trades.append((index, message))
            else:
                book.append((index, ts_local, message))
        return tickers, trades


def _after(variants: list[Template], prefix: bytes) -> list[Template]:
    """The templates without their leading stream prefix."""
    if not all(v.pieces[0].startswith(prefix) for v in variants):
        raise ValueError(f"a template does not start with its stream prefix {prefix!r}")
    return [replace(v, pieces=(v.pieces[0][len(prefix) :], *v.pieces[1:])) for v in variants]


def _bodies(lines: Lines, at: Ints) -> Ints:
    return lines.starts[at] + STAMP_DIGITS + 1


def _merge(
    fast: dict[str, Ints],
    slow: list[tuple[int, BookTicker]] | list[tuple[int, TradeMessage]],
    names: tuple[str, ...],
) -> dict[str, Ints]:
    if not slow:
        return fast
    rows = [(index, *_fields(message)) for index, message in slow]
    extra = np.asarray(rows, dtype=np.int64).reshape(-1, len(names))
    merged = {name: np.concatenate([fast[name], extra[:, column]]) for column, name in enumerate(names)}
    order = np.argsort(merged["line"], kind="stable")
    return {name: column[order] for name, column in merged.items()}


def _fields(message: BookTicker | TradeMessage) -> tuple[int, ...]:
    if type(message) is BookTicker:
        m = message
        return (m.ts_local, m.ts_exchange, m.update_id, m.bid_price, m.bid_size, m.ask_price, m.ask_size)
    assert type(message) is TradeMessage
    t = message
    return (t.ts_local, t.ts_exchange, t.price, t.size, int(t.buyer_is_maker), t.trade_id)


def iter_in_file_order(batch: ParsedBatch) -> Iterator[tuple[int, BookItem | BookTicker | TradeMessage]]:
    """Every item of a batch as (ts_local, message or error) in capture order, for sinks that want objects."""
    events: list[tuple[int, int, BookItem | BookTicker | TradeMessage]] = [
        (line, ts_local, item) for line, ts_local, item in batch.book
    ]
    t = batch.tickers
    for row in zip(*(t[name].tolist() for name in TICKER_COLUMNS), strict=True):
        events.append((row[0], row[1], BookTicker(*row[1:])))
    d = batch.trades
    for line, ts_local, exchange, price, size, maker, trade_id in zip(
        *(d[name].tolist() for name in TRADE_COLUMNS), strict=True
    ):
        events.append((line, ts_local, TradeMessage(ts_local, exchange, price, size, bool(maker), trade_id)))
    events.sort(key=lambda event: event[0])
    for _, ts_local, item in events:
        yield ts_local, item
