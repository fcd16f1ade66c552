"""Fuzzing the Binance message parser and the depth sync behind it (the feed processor): no input
crashes; every message either parses into a record or is rejected with a named reason and counted."""

from __future__ import annotations

import json
import logging
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from flashmm_engine.marketdata.records import BookTicker, DepthDiff, DepthSnapshot, FeedRecord, TradeMessage
from flashmm_engine.telemetry.bad_input import BadInputCounter
from flashmm_engine.venues.binance.markets import as_market
from flashmm_engine.venues.binance.messages import MalformedMessage, MessageParser
from flashmm_engine.venues.binance.processor import FeedProcessor
from tests.binance_specs import eth_spec
from tests.fuzz.strategies import FUZZ, JSON, NUMBER_STRINGS, objects

STREAMS = [
    "ethusdt@bookTicker",
    "ethusdt@trade",
    "ethusdt@aggTrade",
    "ethusdt@depth",
    "ethusdt@depth@100ms",
    "btcusdt@trade",
    "ethusdt@kline_1m",
    "",
]
FIELDS = [
    "e",
    "E",
    "s",
    "U",
    "u",
    "pu",
    "b",
    "a",
    "B",
    "A",
    "p",
    "q",
    "T",
    "m",
    "t",
    "a",
    "f",
    "l",
    "lastUpdateId",
    "bids",
    "asks",
]
LEVELS = st.lists(st.lists(st.one_of(NUMBER_STRINGS, JSON), max_size=3), max_size=3)
VALUES = st.one_of(JSON, LEVELS, st.just("ETHUSDT"), st.integers(min_value=0, max_value=2**64))
ENVELOPE = st.builds(
    lambda stream, data: {"stream": stream, "data": data}, st.sampled_from(STREAMS), objects(FIELDS, VALUES)
)


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode()  # the stdlib writes integers of any size, as a hostile peer may


RAW = st.one_of(
    ENVELOPE.map(_dumps),
    objects(FIELDS, VALUES).map(_dumps),  # a REST snapshot or a bare stream payload
    JSON.map(_dumps),
    st.binary(max_size=60),
)
RECORDS = (BookTicker, DepthDiff, DepthSnapshot, TradeMessage)


@FUZZ
@given(raw=RAW)
def test_each_message_parses_or_is_rejected_with_a_reason(raw: bytes) -> None:
    parser = MessageParser(eth_spec("spot"), "ETHUSDT")
    try:
        record: FeedRecord = parser.parse(1, raw)
    except MalformedMessage as exc:
        assert exc.kind and str(exc)
        return
    assert isinstance(record, RECORDS)


class _Sink:
    def __init__(self) -> None:
        self.received = 0

    def on_snapshot(self, ts_local: int, snapshot: DepthSnapshot) -> None:
        self.received += 1

    def on_diff(self, ts_local: int, diff: DepthDiff) -> None:
        self.received += 1

    def on_book_ticker(self, ticker: BookTicker) -> None:
        self.received += 1

    def on_trade(self, trade: TradeMessage) -> None:
        self.received += 1


@FUZZ
@given(
    market=st.sampled_from(["spot", "usdm"]),
    lines=st.lists(st.one_of(RAW.map(lambda r: b"%d " % 10**18 + r), st.binary(max_size=30)), max_size=6),
)
def test_the_feed_pipeline_survives_any_line_sequence(market: str, lines: list[bytes]) -> None:
    bad = BadInputCounter(logging.getLogger("fuzz"))
    processor = FeedProcessor(as_market(market), eth_spec(market), "ETHUSDT", _Sink(), bad_input=bad)
    processor.on_lines(lines)
    assert processor.messages == len(lines)
    bid, ask = processor.book.best_bid(), processor.book.best_ask()
    if processor.sync.synced and bid is not None and ask is not None:
        assert bid[0] < ask[0]  # a crossed book is never left in place
