"""Raw recording of every market-data frame the engine receives, into hourly segments under the recorder's
directory (`FLASHMM_RECORDER__DIRECTORY`, default `$FLASHMM_HOME/raw`), one `RawRecorder` per market with its
instrument spec sidecar.

Layout: `<directory>/<venue>/<venue>-<market>-YYYYMMDDTHH.raw.gz` (the market name with anything but letters,
digits, `.`, `_` and `-` replaced by `_`), lines `<ts_local_ns> <raw frame>`, and beside each segment
`<segment>.spec.json`. A sim segment starts with a depth snapshot: the venue's subscribe snapshot in the first
hour, and in every later hour (or after a restart) the image received so far, written as the venue's own
`snapshot` message with `"origin": "recorder"`, so each hour's file is readable on its own. A write that
fails (disk full, directory gone) is counted and recording degrades; trading goes on.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from flashmm_engine.marketdata.recorder import RawRecorder
from flashmm_engine.marketdata.spec import InstrumentSpec
from flashmm_engine.telemetry.status import RecordingStatus
from flashmm_engine.types import MarketSpec
from flashmm_engine.venues.sim.depth_image import SimDepthImage

log = logging.getLogger(__name__)

SIM_VENUE = "sim"
SOURCE_VENUE = "venue"
"""Spec source of a sim segment: the venue's own `auth_ok` announcement."""
MAX_RECORDED_MARKETS = 256
"""Distinct market names recorded per engine; frames naming more (a misbehaving venue) are counted."""
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def segment_prefix(venue: str, market: str) -> str:
    return f"{venue}-{_UNSAFE.sub('_', market)}"


def venue_spec(venue: str, spec: MarketSpec, origin: str) -> InstrumentSpec:
    return InstrumentSpec(
        venue=venue,
        market=venue,
        symbol=spec.symbol,
        market_id=spec.symbol,
        tick_size=spec.tick_size,
        lot_size=spec.lot_size,
        base=spec.base,
        quote=spec.quote,
        source=SOURCE_VENUE,
        origin=origin,
    )


class EngineRecorder:
    """The sim client's raw tap: `tap(ts_local_ns, market, raw, spec)` for every market-data frame."""

    def __init__(self, directory: Path, venue: str) -> None:
        self.directory = directory / venue
        self.venue = venue
        self.recorders: dict[str, RawRecorder] = {}
        self.images: dict[str, SimDepthImage] = {}
        self.lines = 0
        self.write_failures = 0
        self.unknown_market = 0
        self.last_error: str | None = None
        self.closed = False

    def tap(self, ts_local_ns: int, market: str, raw: bytes | str, spec: MarketSpec | None) -> None:
        if self.closed:
            return
        recorder = self.recorders.get(market)
        if recorder is None:
            if spec is None or len(self.recorders) >= MAX_RECORDED_MARKETS:
                self.unknown_market += 1
                return
            recorder = self._open(market, spec)
        try:
            recorder.write(ts_local_ns, raw)
            image = self.images.get(market)
            if image is not None:
                image.observe(raw)
        except OSError as exc:
            self.write_failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
            if self.write_failures == 1:
                log.error("ALERT raw recording failed, trading goes on without it: %s", exc)
            return
        self.lines += 1

    def _open(self, market: str, spec: MarketSpec) -> RawRecorder:
        instrument = venue_spec(self.venue, spec, f"{self.venue} venue auth_ok")
        opening = None
        if self.venue == SIM_VENUE:
            image = self.images[market] = SimDepthImage()
            opening = image.snapshot_frame
        recorder = RawRecorder(self.directory, segment_prefix(self.venue, market), instrument, opening)
        self.recorders[market] = recorder
        return recorder

    @property
    def segments(self) -> list[Path]:
        return [path for recorder in self.recorders.values() for path in recorder.segments]

    def flush(self) -> None:
        for recorder in self.recorders.values():
            try:
                recorder.flush()
            except OSError as exc:
                self.write_failures += 1
                self.last_error = f"{type(exc).__name__}: {exc}"

    def close(self) -> None:
        """Writes every segment's gzip trailer; frames arriving afterwards (shutdown) are not recorded."""
        self.closed = True
        for recorder in self.recorders.values():
            try:
                recorder.close()
            except OSError as exc:
                self.write_failures += 1
                log.error("closing raw segment of %s: %s", recorder.prefix, exc)

    def status(self) -> RecordingStatus:
        return RecordingStatus(
            str(self.directory),
            self.lines,
            tuple(str(p) for p in self.segments),
            self.write_failures,
            self.unknown_market,
        )
