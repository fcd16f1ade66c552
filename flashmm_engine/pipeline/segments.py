"""Raw segments: the recorder's hourly files and captures dropped into a folder, each placed in its
(hour, market) partition and carrying its instrument spec.

A recorder segment `<prefix>-YYYYMMDDTHH.raw.gz` belongs to the hour in its name. Any other capture belongs
to the UTC hour of its first line's receive time (a capture is never split across partitions: a dropped
capture is read as a whole, with its own depth snapshot).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flashmm_engine.errors import InputError
from flashmm_engine.marketdata.capture import iter_lines, split_line
from flashmm_engine.marketdata.spec import InstrumentSpec, recorded_spec
from flashmm_engine.types import NS_PER_S

CAPTURE_SUFFIXES = (".raw.gz", ".raw")
SEGMENT_NAME = re.compile(r"-(\d{8}T\d{2})\.raw(\.gz)?$")
HOUR_FORMAT = "%Y%m%dT%H"
PARTITION_HOUR_FORMAT = "%Y-%m-%d-%H:%M"
"""Dagster's hourly partition key format."""


@dataclass(frozen=True, slots=True)
class Segment:
    path: Path
    market: str  # partition key: instrument_key(spec.market_id)
    hour: datetime  # UTC, start of the hour
    spec: InstrumentSpec
    size_bytes: int
    mtime_ns: int

    @property
    def hour_key(self) -> str:
        return self.hour.strftime(PARTITION_HOUR_FORMAT)

    def describe(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "market": self.market,
            "hour": self.hour_key,
            "bytes": self.size_bytes,
            "spec": self.spec.to_json(),
        }


def instrument_key(market_id: str) -> str:
    """An instrument's market id -> its partition (`binance-spot:ETHUSDT` -> `binance-spot-ethusdt`, the sim
    venue's `SIM:ETHUSD` -> `sim-ethusd`): the one mapping segments, frames and ledger markets share."""
    return market_id.replace(":", "-").lower()


def parse_hour_key(key: str) -> datetime:
    return datetime.strptime(key, PARTITION_HOUR_FORMAT).replace(tzinfo=UTC)


def with_venue_folders(directory: Path) -> list[Path]:
    """The folder and the folders directly inside it: the engine records into `<directory>/<venue>/`."""
    if not directory.is_dir():
        return [directory]
    return [directory, *sorted(p for p in directory.iterdir() if p.is_dir())]


def capture_files(directories: Iterable[Path]) -> list[Path]:
    """Every capture file directly inside the folders (missing folders hold none), in name order."""
    found: list[Path] = []
    for directory in directories:
        if directory.is_dir():
            found += [p for p in directory.iterdir() if p.is_file() and p.name.endswith(CAPTURE_SUFFIXES)]
    return sorted(set(found))


def describe_segment(path: Path) -> Segment:
    """The segment's partition and spec: the recorder's sidecar spec when there is one, else the spec the
    venue's capture source resolves (exchangeInfo or inferred from the capture)."""
    from flashmm_engine.venues.captures import open_capture

    _, info = open_capture(path)
    spec = recorded_spec(path) or info.spec
    stat = path.stat()
    return Segment(
        path=path,
        market=instrument_key(spec.market_id),
        hour=segment_hour(path),
        spec=spec,
        size_bytes=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
    )


def segment_hour(path: Path) -> datetime:
    named = SEGMENT_NAME.search(path.name)
    if named:
        return datetime.strptime(named.group(1), HOUR_FORMAT).replace(tzinfo=UTC)
    for line in iter_lines(path):
        ts_local, _ = split_line(line)
        moment = datetime.fromtimestamp(ts_local / NS_PER_S, UTC)
        return moment.replace(minute=0, second=0, microsecond=0)
    raise InputError(f"{path}: empty capture; expected `<ts_local_ns> <raw>` lines")


def discover(directories: Sequence[Path]) -> tuple[list[Segment], dict[str, str]]:
    """All segments in the folders, and the files that could not be read (path -> reason)."""
    segments: list[Segment] = []
    refused: dict[str, str] = {}
    for path in capture_files(directories):
        try:
            segments.append(describe_segment(path))
        except (InputError, OSError, ValueError) as exc:
            refused[str(path)] = str(exc)
    return segments, refused


def for_partition(segments: Iterable[Segment], market: str, hour_key: str) -> list[Segment]:
    return [s for s in segments if s.market == market and s.hour_key == hour_key]
