"""Parsing of Binance market-data messages (combined-stream envelopes and REST depth snapshots).

Everything leaves here as integer ticks and lots. Any malformed field raises `MalformedMessage`, so callers
count and skip it instead of crashing or feeding a wrong number into a book.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from flashmm_engine.marketdata.records import BookTicker, DepthDiff, DepthSnapshot, FeedRecord, TradeMessage
from flashmm_engine.marketdata.units import UnitParser
from flashmm_engine.types import NS_PER_MS, MarketSpec

MAX_INT64 = 2**63 - 1
MAX_EXCHANGE_MS = MAX_INT64 // NS_PER_MS
"""Later exchange times would overflow int64 nanoseconds in the tables: malformed."""

DEPTH_STREAM_NAMES = ("depth", "depth@100ms", "depth@0ms", "depth@250ms", "depth@500ms")
"""Diff-depth stream variants (speeds) accepted for every market."""


class MalformedMessage(ValueError):
    """A message that does not parse or validate. `kind` names the failure for BadInputCounter."""

    def __init__(self, kind: str, detail: str, diff: bool = False) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.diff = diff  # it came on a diff-depth stream: the book misses an update and must resync


BinanceMessage = FeedRecord


class MessageParser:
    """Parses raw Binance JSON for one market spec. Stateless apart from its memoised number parsers."""

    def __init__(self, spec: MarketSpec, symbol: str) -> None:
        self.ticks = UnitParser(spec.tick_size, "price")
        self.lots = UnitParser(spec.lot_size, "size")
        self.symbol = symbol.upper()
        lower = symbol.lower()
        # exact stream names -> handler: one dict lookup per message instead of suffix tests
        self._handlers: dict[str, Callable[[int, dict[str, Any]], BinanceMessage]] = {
            f"{lower}@bookTicker": self._book_ticker,
            f"{lower}@trade": self._trade,
            f"{lower}@aggTrade": self._agg_trade,
            **{f"{lower}@{name}": self._diff for name in DEPTH_STREAM_NAMES},
        }

    def parse(self, ts_local: int, raw: bytes | str) -> BinanceMessage:
        handler = None
        try:
            message = orjson.loads(raw)
            # fast path for stream messages of our symbol; everything else is sorted out below
            if type(message) is dict and (stream := message.get("stream")) is not None:
                handler, data = self._handlers.get(stream), message["data"]
                if handler is not None and data["s"] == self.symbol:
                    return handler(ts_local, data)
            return self._other(ts_local, message)
        except MalformedMessage as exc:
            exc.diff = handler == self._diff
            raise
        except orjson.JSONDecodeError as exc:
            raise MalformedMessage("bad_json", str(exc)) from None
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            detail = f"{type(exc).__name__}: {exc}"
            raise MalformedMessage("bad_field", detail, diff=handler == self._diff) from None

    def _other(self, ts_local: int, message: Any) -> BinanceMessage:
        if type(message) is not dict:
            raise MalformedMessage("bad_shape", "message is not a JSON object")
        stream = message.get("stream")
        if stream is None:
            if "lastUpdateId" in message:
                return self._snapshot(ts_local, message)
            raise MalformedMessage("unknown_message", "neither a stream envelope nor a depth snapshot")
        if stream not in self._handlers:
            raise MalformedMessage("unknown_stream", str(stream)[:60])
        raise MalformedMessage("wrong_symbol", f"expected {self.symbol}, got {message['data']['s']!r}"[:80])

    def _diff(self, ts_local: int, data: dict[str, Any]) -> DepthDiff:
        first_id, final_id = _int(data["U"]), _int(data["u"])
        if first_id > final_id:
            raise MalformedMessage("bad_update_ids", f"U {first_id} > u {final_id}")
        bid_prices, bid_sizes = self._levels(data["b"])
        ask_prices, ask_sizes = self._levels(data["a"])
        return DepthDiff(
            ts_local,
            _ms_to_ns(data["E"]),
            first_id,
            final_id,
            _int(data.get("pu", -1)),
            bid_prices,
            bid_sizes,
            ask_prices,
            ask_sizes,
        )

    def _levels(self, levels: list[list[str]]) -> tuple[list[int], list[int]]:
        # transpose in C, then map each column through the memoised parsers (C-level on cache hits)
        if not levels:
            return [], []
        prices, sizes = zip(*levels, strict=True)
        return list(map(self.ticks.__getitem__, prices)), list(map(self.lots.__getitem__, sizes))

    def _snapshot(self, ts_local: int, data: dict[str, Any]) -> DepthSnapshot:
        ticks, lots = self.ticks, self.lots
        exchange_ms = data.get("E")
        return DepthSnapshot(
            ts_local=ts_local,
            ts_exchange=ts_local if exchange_ms is None else _ms_to_ns(exchange_ms),
            last_update_id=_int(data["lastUpdateId"]),
            bids=[(ticks[p], lots[q]) for p, q in data["bids"]],
            asks=[(ticks[p], lots[q]) for p, q in data["asks"]],
        )

    def _book_ticker(self, ts_local: int, data: dict[str, Any]) -> BookTicker:
        exchange_ms = data.get("E")  # spot bookTicker carries no event time
        ticks, lots = self.ticks, self.lots
        return BookTicker(
            ts_local,
            ts_local if exchange_ms is None else _ms_to_ns(exchange_ms),
            _int(data["u"]),
            ticks[data["b"]],
            lots[data["B"]],
            ticks[data["a"]],
            lots[data["A"]],
        )

    def _trade(self, ts_local: int, data: dict[str, Any]) -> TradeMessage:
        buyer_is_maker = data["m"]
        if not isinstance(buyer_is_maker, bool):
            raise MalformedMessage("bad_field", "trade field m is not a boolean")
        return TradeMessage(
            ts_local,
            _ms_to_ns(data["T"]),
            self.ticks[data["p"]],
            self.lots[data["q"]],
            buyer_is_maker,
            _int(data["t"]),
        )

    def _agg_trade(self, ts_local: int, data: dict[str, Any]) -> TradeMessage:
        """An aggregate trade (COIN-M's only trade stream): its aggregate id stands for the trade id."""
        return self._trade(ts_local, {**data, "t": data["a"]})


def _int(value: Any) -> int:
    # bool is an int subclass and floats would silently truncate: both are malformed ids/timestamps
    if type(value) is not int:
        raise MalformedMessage("bad_field", f"expected an integer, got {type(value).__name__}")
    if not -MAX_INT64 <= value <= MAX_INT64:
        raise MalformedMessage("bad_field", f"integer {value} out of int64 range")
    return value


def _ms_to_ns(value: Any) -> int:
    milliseconds = _int(value)
    if milliseconds > MAX_EXCHANGE_MS:
        raise MalformedMessage("bad_field", f"exchange time {milliseconds} ms out of range")
    return milliseconds * NS_PER_MS
