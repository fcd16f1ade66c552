"""The interface a venue implements so its raw captures can be read: detect, open (spec), iterate.

`flashmm_engine.venues.captures` keeps the list of sources and picks the one that recognizes a capture;
everything downstream (normalized tables, book checks, benchmarks) sees only `CaptureInfo`, the feed
records and `CaptureStats`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from flashmm_engine.errors import InputError
from flashmm_engine.marketdata.book import OrderBook
from flashmm_engine.marketdata.capture import CaptureHead
from flashmm_engine.marketdata.records import FeedSink
from flashmm_engine.marketdata.spec import InstrumentSpec

DETECT_MAX_LINES = 2_000
"""Lines read from the head of a capture to tell its venue, market and symbol."""
MAX_UNUSABLE_FRACTION = 0.5
"""A capture with more unusable lines than this is refused instead of being reported on."""


@dataclass(frozen=True)
class Detection:
    """What one venue's source recognizes in a capture's head."""

    venue: str
    market: str | None  # None: the lines seen do not tell (e.g. only trades)
    symbol: str
    recognized: int  # lines of the head this source understood
    symbols: Counter[str] = field(default_factory=Counter)  # lower-case stream symbols seen
    markets: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class CaptureInfo:
    """A capture opened for reading: its market and symbol (detected or given) and its spec."""

    path: Path
    venue: str
    market: str
    symbol: str
    spec: InstrumentSpec
    streams: tuple[str, ...] = ()  # stream names seen in the capture's head, e.g. "btcusdt@depth@100ms"

    def describe(self) -> dict[str, object]:
        """The part of every command's JSON that says what was read."""
        return {
            "venue": self.venue,
            "market": self.market,
            "symbol": self.symbol,
            "spec": self.spec.to_json(),
        }


@dataclass(frozen=True)
class CaptureStats:
    messages: int
    malformed: int
    resyncs: int
    snapshots: int = 0  # depth snapshots the book was loaded from
    diffs_applied: int = 0
    bad_kinds: dict[str, int] = field(default_factory=dict)


class CaptureSource(Protocol):
    venue: str

    def detect(self, head: CaptureHead) -> Detection | None:
        """This venue's view of the capture's first lines; None if none of them is this venue's."""

    def open(
        self,
        head: CaptureHead,
        detection: Detection,
        market: str | None,
        symbol: str | None,
        exchange_info: Path | None,
    ) -> CaptureInfo:
        """Apply the overrides (InputError when they contradict the capture) and resolve the spec."""

    def iterate(
        self, info: CaptureInfo, sink: FeedSink, batch: bool = True, book: OrderBook | None = None
    ) -> CaptureStats:
        """Push the whole capture through the venue's feed pipeline (parse, sync, book) into `sink`;
        `book`, if given, is the book the pipeline keeps (for checks that read it)."""


def require_usable(info: CaptureInfo, stats: CaptureStats) -> None:
    """Refuse a capture the pipeline could not really read, instead of reporting on almost nothing."""
    what = f"{info.venue} {info.market} {info.symbol}"
    if stats.messages == 0:
        raise InputError(f"{info.path}: capture holds no lines; expected {what} messages")
    if stats.malformed > MAX_UNUSABLE_FRACTION * stats.messages:
        kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(stats.bad_kinds.items(), key=_by_count))
        raise InputError(
            f"{info.path}: {stats.malformed} of {stats.messages} lines are unusable ({kinds}); "
            f"expected {what} messages"
        )
    if stats.snapshots == 0:
        raise InputError(
            f"{info.path}: no depth snapshot the diffs chain onto in {stats.messages} lines; "
            f"expected a REST depth snapshot line for {what}"
        )


def _by_count(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]
