"""Which venue's `CaptureSource` reads a capture, and the entry points every capture reader uses.

`marketdata/` holds the neutral parts (container, tables, spec, the source interface); this module lists the
venues' sources. A new venue's captures need one more entry in `SOURCES`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flashmm_engine.errors import InputError
from flashmm_engine.marketdata.capture import CaptureHead, read_head
from flashmm_engine.marketdata.normalize import NormalizedTables, normalize
from flashmm_engine.marketdata.source import (
    DETECT_MAX_LINES,
    CaptureInfo,
    CaptureSource,
    CaptureStats,
    Detection,
)
from flashmm_engine.venues.binance.source import BinanceCaptureSource
from flashmm_engine.venues.sim.source import SimCaptureSource

log = logging.getLogger(__name__)

SOURCES: tuple[CaptureSource, ...] = (BinanceCaptureSource(), SimCaptureSource())


def detect_capture(path: Path) -> tuple[CaptureSource, Detection]:
    return _detect(read_head(path, DETECT_MAX_LINES))


def _detect(head: CaptureHead) -> tuple[CaptureSource, Detection]:
    found = [(source, d) for source in SOURCES if (d := source.detect(head)) is not None]
    if not found:
        venues = ", ".join(source.venue for source in SOURCES)
        raise InputError(
            f"{head.path}: not a capture of a known feed: found {head.describe()}; "
            f"expected `<ts_local_ns> <raw message>` lines of a {venues} feed"
        )
    return max(found, key=lambda item: item[1].recognized)


def open_capture(
    path: Path, market: str | None = None, symbol: str | None = None, exchange_info: Path | None = None
) -> tuple[CaptureSource, CaptureInfo]:
    """Detect the capture's venue, market and symbol (`market` and `symbol` override) and resolve its spec."""
    head = read_head(path, DETECT_MAX_LINES)
    source, detection = _detect(head)
    info = source.open(head, detection, market, symbol, exchange_info)
    spec = info.spec
    log.debug(
        "%s: %s %s %s, tick %s lot %s (spec %s from %s)",
        path.name, info.venue, info.market, info.symbol, spec.tick_size, spec.lot_size, spec.source,
        spec.origin,
    )  # fmt: skip
    return source, info


def detect_market(path: Path) -> str:
    """The capture's market as detected from its first lines (no spec resolution)."""
    _, detection = detect_capture(path)
    if detection.market is None:
        raise InputError(f"{path}: the first lines do not tell the market; pass --market")
    return detection.market


def normalize_capture(
    path: Path,
    market: str | None = None,
    symbol: str | None = None,
    exchange_info: Path | None = None,
    batch: bool = True,
) -> tuple[NormalizedTables, CaptureStats]:
    source, info = open_capture(path, market, symbol, exchange_info)
    return normalize(source, info, batch)


def load_capture(
    path: Path, market: str | None = None, symbol: str | None = None, exchange_info: Path | None = None
) -> NormalizedTables:
    return normalize_capture(path, market, symbol, exchange_info)[0]
