"""The batch feed path for whole capture files: parse every line of a capture at once, compiled.

One pass of `batch_scan` over the bytes takes the depth diffs, bookTickers and trades in Binance's exact
layouts (`batch_templates`) without a Python object per number; every other line (the REST snapshot, other
formats, anything malformed) goes through the per-message `MessageParser`, so errors are classified exactly
as on the live path. `FeedProcessor.on_batch` then runs the same sync and book code as
the live connector over the result, in file order.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from flashmm_engine.marketdata.capture import parse_stamp
from flashmm_engine.marketdata.records import BookTicker, DepthDiff, DepthSnapshot, TradeMessage
from flashmm_engine.types import NS_PER_MS, MarketSpec
from flashmm_engine.venues.binance.batch_scan import SLOW, Ints, Scan, scan
from flashmm_engine.venues.binance.batch_templates import (
    BOOK_TICKER_TEMPLATES,
    DEPTH_TEMPLATES,
    TRADE_TEMPLATES,
    Compiled,
    compile_layout,
    link,
)
from flashmm_engine.venues.binance.markets import DEPTH_STREAMS, BinanceMarket
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
EXCHANGE_SLOT = {DEPTH: "E", TICKER: "E", TRADE: "T"}
"""The slot holding each kind's exchange time, in ms (checked against MAX_EXCHANGE_MS)."""


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
        stream = depth_stream or DEPTH_STREAMS[market]
        layouts = {
            DEPTH: compile_layout(DEPTH_TEMPLATES[market], symbol, stream),
            TICKER: compile_layout(BOOK_TICKER_TEMPLATES[market], symbol),
            TRADE: compile_layout(TRADE_TEMPLATES[market], symbol),
        }
        self._layouts: dict[int, Compiled] = {k: v for k, v in layouts.items() if v is not None}
        self._program, self._bounds, self._literals = link([layouts[k] for k in (DEPTH, TICKER, TRADE)])
        ticks, lots = self.parser.ticks, self.parser.lots
        self._units = np.array([[ticks.decimals, ticks.multiple], [lots.decimals, lots.multiple]], np.int64)

    def parse(self, text: bytes) -> ParsedBatch:
        """Every line of a capture's text (`<ts_local_ns> <raw>` lines), in file order."""
        found = scan(text, self._program, self._bounds, self._literals, self._units)
        kinds = found.kinds
        for kind, layout in self._layouts.items():
            at = np.flatnonzero(kinds == kind)
            values = found.values[at]
            bad = np.zeros(len(at), dtype=np.bool_)
            if EXCHANGE_SLOT[kind] in layout.slots:
                bad |= values[:, layout.slots.index(EXCHANGE_SLOT[kind])] > MAX_EXCHANGE_MS
            if kind == DEPTH:
                bad |= values[:, layout.slots.index("U")] > values[:, layout.slots.index("u")]
            kinds[at[bad]] = SLOW
        book = self._diffs(found, np.flatnonzero(kinds == DEPTH))
        tickers = self._tickers(found, np.flatnonzero(kinds == TICKER))
        trades = self._trades(found, np.flatnonzero(kinds == TRADE))
        slow_tickers, slow_trades = self._parse_slow(
            text, found, np.flatnonzero(kinds == SLOW).tolist(), book
        )
        book.sort(key=lambda item: item[0])
        return ParsedBatch(
            messages=len(kinds),
            book=book,
            level_prices=found.prices,
            level_sizes=found.sizes,
            tickers=_merge(tickers, slow_tickers, TICKER_COLUMNS),
            trades=_merge(trades, slow_trades, TRADE_COLUMNS),
        )

    def _slot(self, found: Scan, at: Ints, kind: int, name: str) -> Ints:
        column: Ints = found.values[at, self._layouts[kind].slots.index(name)]
        return column

    def _diffs(self, found: Scan, at: Ints) -> list[tuple[int, int, BookItem]]:
        """The matched diffs, each with its `levels_at` in the batch's level arrays."""
        if not len(at):
            return []
        prices, sizes = found.prices.tolist(), found.sizes.tolist()
        starts = found.levels_at[at]
        middles = starts + found.bid_counts[at]
        ends = (middles + found.ask_counts[at]).tolist()
        starts_list, middles_list = starts.tolist(), middles.tolist()
        slots = self._layouts[DEPTH].slots
        previous = self._slot(found, at, DEPTH, "pu").tolist() if "pu" in slots else [-1] * len(at)
        stamps = found.stamps[at].tolist()
        diffs = map(
            DepthDiff,
            stamps,
            (self._slot(found, at, DEPTH, "E") * NS_PER_MS).tolist(),
            self._slot(found, at, DEPTH, "U").tolist(),
            self._slot(found, at, DEPTH, "u").tolist(),
            previous,
            [prices[low:middle] for low, middle in zip(starts_list, middles_list, strict=True)],
            [sizes[low:middle] for low, middle in zip(starts_list, middles_list, strict=True)],
            [prices[middle:high] for middle, high in zip(middles_list, ends, strict=True)],
            [sizes[middle:high] for middle, high in zip(middles_list, ends, strict=True)],
            starts_list,
            itertools.repeat((found.prices, found.sizes)),
        )
        return list(zip(at.tolist(), stamps, diffs, strict=True))

    def _tickers(self, found: Scan, at: Ints) -> dict[str, Ints]:
        if TICKER not in self._layouts or not len(at):
            return {name: np.zeros(0, dtype=np.int64) for name in TICKER_COLUMNS}
        slots = self._layouts[TICKER].slots
        stamps = found.stamps[at]
        # spot bookTicker has no E
        exchange = self._slot(found, at, TICKER, "E") * NS_PER_MS if "E" in slots else stamps
        names = ("update_id", "bid_price", "bid_size", "ask_price", "ask_size")
        return {
            "line": at,
            "ts_local": stamps,
            "ts_exchange": exchange,
            **{name: self._slot(found, at, TICKER, s) for name, s in zip(names, "ubBaA", strict=True)},
        }

    def _trades(self, found: Scan, at: Ints) -> dict[str, Ints]:
        if TRADE not in self._layouts or not len(at):
            return {name: np.zeros(0, dtype=np.int64) for name in TRADE_COLUMNS}
        names = ("ts_exchange", "price", "size", "buyer_is_maker", "trade_id")
        slot = self._slot
        values = (slot(found, at, TRADE, "T") * NS_PER_MS, *(slot(found, at, TRADE, s) for s in "pqmt"))
        return {"line": at, "ts_local": found.stamps[at], **dict(zip(names, values, strict=True))}

    def _parse_slow(
        self, text: bytes, found: Scan, other: list[int], book: list[tuple[int, int, BookItem]]
    ) -> tuple[list[tuple[int, BookTicker]], list[tuple[int, TradeMessage]]]:
        """Lines the fast paths did not take, exactly as `FeedProcessor.on_lines` treats them."""
        tickers: list[tuple[int, BookTicker]] = []
        trades: list[tuple[int, TradeMessage]] = []
        for index in other:
            line = text[int(found.starts[index]) : int(found.ends[index])]
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
