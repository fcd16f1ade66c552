"""Binance captures as a `CaptureSource`: detection, overrides, spec resolution, and the feed pipeline."""

from __future__ import annotations

import logging
from pathlib import Path

from flashmm_engine.errors import InputError
from flashmm_engine.marketdata.book import OrderBook
from flashmm_engine.marketdata.capture import CaptureHead, iter_lines, read_capture
from flashmm_engine.marketdata.normalize import gc_paused
from flashmm_engine.marketdata.records import FeedSink
from flashmm_engine.marketdata.source import CaptureInfo, CaptureStats, Detection
from flashmm_engine.marketdata.spec import InstrumentSpec, recorded_spec, sidecar_path
from flashmm_engine.venues.binance import detect
from flashmm_engine.venues.binance.batch import BatchParser
from flashmm_engine.venues.binance.markets import MARKETS, BinanceMarket, as_market
from flashmm_engine.venues.binance.processor import FeedProcessor
from flashmm_engine.venues.binance.specs import infer_spec, read_exchange_info

log = logging.getLogger(__name__)


class BinanceCaptureSource:
    venue = detect.VENUE

    def detect(self, head: CaptureHead) -> Detection | None:
        return detect.detect(head)

    def open(
        self,
        head: CaptureHead,
        detection: Detection,
        market: str | None,
        symbol: str | None,
        exchange_info: Path | None,
    ) -> CaptureInfo:
        resolved_symbol = _symbol(head, detection, symbol)
        resolved_market = _market(head.path, detection, resolved_symbol, market)
        spec = _spec(head.path, resolved_market, resolved_symbol, exchange_info)
        streams = tuple(sorted({s for line in head.lines if (s := detect.stream_of(_raw(line))) is not None}))
        return CaptureInfo(head.path, self.venue, resolved_market, resolved_symbol, spec, streams)

    def iterate(
        self, info: CaptureInfo, sink: FeedSink, batch: bool = True, book: OrderBook | None = None
    ) -> CaptureStats:
        market = as_market(info.market)
        processor = FeedProcessor(market, info.spec.market_spec(), info.symbol, sink, book=book)
        feed_capture(processor, info.path, batch, depth_stream(info))
        return CaptureStats(
            messages=processor.messages,
            malformed=processor.malformed,
            resyncs=processor.resyncs,
            snapshots=processor.snapshots_loaded,
            diffs_applied=processor.diffs_applied,
            bad_kinds=dict(processor.bad_input.counts),
        )


def _spec(path: Path, market: BinanceMarket, symbol: str, exchange_info: Path | None) -> InstrumentSpec:
    """In order: the exchangeInfo file given, the spec recorded beside the segment, inference."""
    if exchange_info is not None:
        return read_exchange_info(exchange_info, market, symbol)
    recorded = recorded_spec(path)
    if recorded is None:
        return infer_spec(path, market, symbol)
    if (recorded.market, recorded.symbol) != (market, symbol):
        raise InputError(
            f"{sidecar_path(path)}: spec of {recorded.market} {recorded.symbol}; "
            f"the capture holds {market} {symbol}"
        )
    return recorded


def depth_stream(info: CaptureInfo) -> str | None:
    """The diff stream's suffix in this capture (e.g. "depth@100ms"), for the batch parser's fast path."""
    prefix = f"{info.symbol.lower()}@"
    for stream in info.streams:
        if stream.startswith(prefix) and stream[len(prefix) :].startswith("depth"):
            return stream[len(prefix) :]
    return None


def feed_capture(processor: FeedProcessor, path: Path, batch: bool = True, stream: str | None = None) -> None:
    """Push a whole capture through `processor`: all lines at once (batch path) or one by one."""
    if batch:
        parser = BatchParser(processor.market, processor.spec, processor.symbol, stream)
        with gc_paused():
            processor.on_batch(parser.parse(read_capture(path)))
    else:
        processor.on_lines(iter_lines(path))


def _raw(line: bytes) -> bytes:
    return line.partition(b" ")[2]


def _symbol(head: CaptureHead, detection: Detection, given: str | None) -> str:
    if given is None:
        return detection.symbol
    if given.lower() not in detection.symbols:
        seen = ", ".join(name for name, _ in detection.symbols.most_common(3))
        lines = sum(detection.symbols.values())
        raise InputError(
            f"{head.path}: capture holds {seen} streams ({lines} of its first {len(head.lines)} lines); "
            f"--symbol {given} was given"
        )
    return given.upper()


def _market(path: Path, detection: Detection, symbol: str, given: str | None) -> BinanceMarket:
    seen = detection.markets if symbol == detection.symbol else None
    evidence = seen.most_common(1)[0][0] if seen else None
    if given is not None:
        market = as_market(given)
        if evidence is not None and evidence != market:
            raise InputError(
                f"{path}: capture holds Binance {evidence} {symbol.lower()} streams; "
                f"--market {given} was given"
            )
        return market
    if evidence is None:
        raise InputError(
            f"{path}: the first lines of {symbol.lower()} do not tell the Binance market; "
            f"pass --market ({'|'.join(MARKETS)})"
        )
    log.debug("capture %s: Binance %s %s (detected)", path.name, evidence, symbol)
    return as_market(evidence)


def describe_spec(spec: InstrumentSpec) -> str:
    return f"tick {spec.tick_size}, lot {spec.lot_size} ({spec.source} from {spec.origin})"
