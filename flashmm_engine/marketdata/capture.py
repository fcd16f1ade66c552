"""Raw capture files: one `<ts_local_ns> <raw message>` line per received message, gzip or plain."""

from __future__ import annotations

import gzip
import logging
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from isal import igzip

from flashmm_engine.errors import InputError

GZIP_MAGIC = b"\x1f\x8b"
_gunzip: Callable[[bytes], bytes] = igzip.decompress  # ISA-L: about twice as fast as zlib here, same format
READ_CHUNK_BYTES = 1 << 22
HEAD_CHUNK_BYTES = 1 << 16
"""Reads for a capture's first lines: detection needs a few thousand lines, not the whole file."""
GZIP_WBITS = 31
"""zlib window bits for one gzip member (header and trailer included)."""

log = logging.getLogger(__name__)


class BadLine(ValueError):
    """A capture line without a valid `<ts_local_ns> <raw>` prefix."""


@dataclass(frozen=True)
class CaptureHead:
    """The first lines of a capture, for detection, and what the container looked like."""

    path: Path
    lines: list[bytes]
    compressed: bool
    truncated: bool  # the gzip stream ended inside the lines read
    size_bytes: int

    def describe(self) -> str:
        """What was found, for error messages: e.g. "an empty file" or "12 lines of gzip text"."""
        container = "gzip" if self.compressed else "plain"
        if not self.lines:
            if self.truncated:
                return "a gzip stream truncated before its first complete line"
            return "an empty file" if self.size_bytes == 0 else f"{container} data without a single line"
        tail = ", truncated" if self.truncated else ""
        count = f"{len(self.lines)} line" + ("s" if len(self.lines) > 1 else "")
        return f"{count} of {container} text{tail}, starting {self.lines[0][:60]!r}"


def read_head(path: Path, max_lines: int) -> CaptureHead:
    """Up to `max_lines` non-empty lines; raises InputError for a file that is no readable capture."""
    try:
        size = path.stat().st_size
        with path.open("rb") as probe:
            compressed = probe.read(2) == GZIP_MAGIC
    except OSError as exc:
        raise InputError(f"{path}: cannot read the capture: {exc.strerror or exc}") from None
    truncated = False
    lines: list[bytes] = []
    try:
        for line in iter_lines(path, raise_truncated=True, chunk_bytes=HEAD_CHUNK_BYTES):
            lines.append(line)
            if len(lines) >= max_lines:
                break
    except TruncatedCapture:
        truncated = True
    return CaptureHead(path, lines, compressed, truncated, size)


class TruncatedCapture(EOFError):
    """The gzip stream ends in the middle of a member."""


def iter_lines(
    path: Path, raise_truncated: bool = False, chunk_bytes: int = READ_CHUNK_BYTES
) -> Iterator[bytes]:
    """Non-empty lines of a capture, newline stripped. A truncated gzip tail ends the iteration after the
    last complete line (with a warning), or raises `TruncatedCapture` with `raise_truncated`. Corrupt gzip
    data is an InputError."""
    pending = b""
    try:
        # big chunks split in C are several times faster than GzipFile's per-line readline
        for chunk in _text_chunks(path, chunk_bytes):
            lines = (pending + chunk).split(b"\n")
            pending = lines.pop()
            for line in lines:
                if line := line.rstrip(b"\r"):
                    yield line
        if pending := pending.rstrip(b"\r"):
            yield pending
    except TruncatedCapture:
        # a recorder killed mid-write leaves a truncated gzip member; keep what was complete
        if raise_truncated:
            raise
        log.warning("capture %s ends with a truncated gzip member; the partial tail was skipped", path)


def _text_chunks(path: Path, chunk_bytes: int) -> Iterator[bytes]:
    """The capture's text in chunks: gzip members one after another (a restarted recorder appends one),
    or plain bytes. Raises `TruncatedCapture` after the last data of a member that is cut short."""
    with path.open("rb") as stream:
        data = stream.read(chunk_bytes)
        if data[:2] != GZIP_MAGIC:
            while data:
                yield data
                data = stream.read(chunk_bytes)
            return
        inflater, started = zlib.decompressobj(GZIP_WBITS), False
        while True:
            if not data and not (data := stream.read(chunk_bytes)):
                if started:
                    raise TruncatedCapture(str(path))
                return
            started = True
            try:
                text = inflater.decompress(data)
            except zlib.error as exc:
                raise _corrupt(path, exc) from None
            if text:
                yield text
            data = b""
            if inflater.eof:
                data, started = inflater.unused_data, False
                inflater = zlib.decompressobj(GZIP_WBITS)
                if len(data) < len(GZIP_MAGIC):
                    data += stream.read(chunk_bytes)
                if data and data[:2] != GZIP_MAGIC:
                    return  # padding after the last member (as gzip tools tolerate)


def _corrupt(path: Path, exc: Exception) -> InputError:
    return InputError(f"{path}: corrupt gzip data ({exc}); expected a gzip or plain-text capture")


MAX_STAMP_NS = 2**63 - 1


def parse_stamp(stamp: bytes) -> int | None:
    """`<ts_local_ns>` as an int, or None if it is not plain digits within int64."""
    if not stamp.isdigit():
        return None
    value = int(stamp)
    return value if value <= MAX_STAMP_NS else None


def split_line(line: bytes) -> tuple[int, bytes]:
    stamp, sep, raw = line.partition(b" ")
    ts_local = parse_stamp(stamp)
    if not sep or ts_local is None or not raw:
        raise BadLine(f"not '<ts_local_ns> <raw>': {line[:60]!r}")
    return ts_local, raw


def read_capture(path: Path) -> bytes:
    """A whole capture's text at once (one read, one decompress): the batch path."""
    data = path.read_bytes()
    if data[:2] != GZIP_MAGIC:
        return data
    try:
        return _gunzip(data)
    except EOFError:  # a truncated member: the streaming reader keeps what was complete
        return b"".join(line + b"\n" for line in iter_lines(path))
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise InputError(
            f"{path}: corrupt gzip data ({exc}); expected a gzip or plain-text capture"
        ) from None
