"""Raw feed recorder: every received message as `<ts_local_ns> <raw>` in hourly gzip segments.

Segments are named `<prefix>-YYYYMMDDTHH.raw.gz` by the UTC hour of the message's local receive time, so
a re-run of any normalization sees exactly what the connector saw. With a spec, each segment gets a sidecar
`<segment>.spec.json`, so later stages read the instrument's steps instead of guessing them. With an
`opening`, each new segment (and each gzip member appended after a restart) starts with the line it
returns for the moment of rotation, a depth snapshot of the book so far, so every hour reads on its own.
`close()` writes the gzip trailer; the owner calls it on shutdown (SIGTERM), which is why nothing is lost on a
clean stop.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from flashmm_engine.marketdata.spec import InstrumentSpec, sidecar_path, write_spec
from flashmm_engine.types import NS_PER_S

log = logging.getLogger(__name__)

SECONDS_PER_HOUR = 3600
COMPRESS_LEVEL = 6
"""zlib level: close to level 9's size at a fraction of its CPU cost."""


Opening = Callable[[int], bytes | None]
"""ts_local_ns -> the raw line a new segment starts with (None: nothing to start with yet)."""


class RawRecorder:
    def __init__(
        self, directory: Path, prefix: str, spec: InstrumentSpec | None = None, opening: Opening | None = None
    ) -> None:
        self.directory = directory
        self.prefix = prefix
        self.spec = spec
        self.opening = opening
        self.lines = 0
        self.segments: list[Path] = []
        self._hour: int | None = None
        self._file: gzip.GzipFile | None = None

    def write(self, ts_local_ns: int, raw: bytes | str) -> None:
        hour = ts_local_ns // (NS_PER_S * SECONDS_PER_HOUR)
        if hour != self._hour:
            self._rotate(hour)
            first = self.opening(ts_local_ns) if self.opening is not None else None
            if first is not None:
                self._line(ts_local_ns, first)
        self._line(ts_local_ns, raw)

    def _line(self, ts_local_ns: int, raw: bytes | str) -> None:
        assert self._file is not None
        payload = raw.encode() if isinstance(raw, str) else raw
        self._file.write(b"%d %s\n" % (ts_local_ns, payload.replace(b"\n", b" ")))
        self.lines += 1

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
            self._hour = None

    def _rotate(self, hour: int) -> None:
        self.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.fromtimestamp(hour * SECONDS_PER_HOUR, tz=UTC).strftime("%Y%m%dT%H")
        path = self.directory / f"{self.prefix}-{stamp}.raw.gz"
        # append mode: a restart within the same hour adds a new gzip member, which readers concatenate
        self._file = gzip.GzipFile(path, mode="ab", compresslevel=COMPRESS_LEVEL)
        self._hour = hour
        if path not in self.segments:
            self.segments.append(path)
        if self.spec is not None:
            write_spec(self.spec, sidecar_path(path))
        log.info("recording raw feed to %s", path)
