"""The local fill journal: where a fill becomes durable when the ledger database cannot take it.

An append-only file, one JSON line per fill, fsync'd before `append` returns, so the engine may act on the
fill once it is written here. When the database is back, `replay_into` commits every line in order with
`Ledger.record_fill`; the ledger's unique (venue, fill id) makes a line already committed a no-op, so
replaying twice (a crash between replay and `clear`) changes nothing. The file is capped: a fill that
would take it past `max_bytes` raises `FillJournalFull` (the caller halts the market). A line that does
not parse is counted and refused with its line number, never skipped silently: the journal is then kept
for an operator and nothing is cleared.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from flashmm_engine.ledger.store import Ledger
from flashmm_engine.types import Fill, Liquidity, Side


class FillJournalFull(RuntimeError):
    """The journal reached its size cap: the fill is not durable anywhere."""


class FillJournalCorrupt(ValueError):
    """Lines of the journal do not parse; nothing is replayed or cleared until an operator looks."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    venue: str
    instance_id: str
    fill: Fill
    seq: int | None


def _encode(entry: JournalEntry) -> bytes:
    f = entry.fill
    return orjson.dumps(
        {
            "venue": entry.venue,
            "instance_id": entry.instance_id,
            "seq": entry.seq,
            "fill_id": f.fill_id,
            "client_id": f.client_id,
            "venue_order_id": f.venue_order_id,
            "market": f.market,
            "side": f.side.sign,
            "price": f.price,
            "size": f.size,
            "remaining": f.remaining,
            "fee": f.fee,
            "liquidity": f.liquidity.value,
            "ts": f.ts,
        }
    )


def _decode(line: bytes) -> JournalEntry:
    raw: Any = orjson.loads(line)
    if not isinstance(raw, dict):
        raise ValueError("not a JSON object")
    seq = raw["seq"]
    fill = Fill(
        client_id=_str(raw, "client_id"),
        venue_order_id=_str(raw, "venue_order_id"),
        fill_id=_str(raw, "fill_id"),
        market=_str(raw, "market"),
        side=Side(_int(raw, "side")),
        price=_int(raw, "price"),
        size=_int(raw, "size"),
        remaining=_int(raw, "remaining"),
        fee=_int(raw, "fee"),
        liquidity=Liquidity(raw["liquidity"]),
        ts=_int(raw, "ts"),
    )
    if seq is not None and not isinstance(seq, int):
        raise ValueError("seq: expected an integer or null")
    return JournalEntry(_str(raw, "venue"), _str(raw, "instance_id"), fill, seq)


def _str(raw: dict[str, Any], key: str) -> str:
    value = raw[key]
    if not isinstance(value, str):
        raise ValueError(f"{key}: expected a string")
    return value


def _int(raw: dict[str, Any], key: str) -> int:
    value = raw[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{key}: expected an integer")
    return value


class FillJournal:
    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.corrupt_lines = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._size = os.fstat(self._fd).st_size
        self.lines = path.read_bytes().count(b"\n") if self._size else 0
        """Lines in the file now (a replay that read fewer must run again before `clear`)."""

    @property
    def size(self) -> int:
        return self._size

    def close(self) -> None:
        os.close(self._fd)

    def append(self, venue: str, instance_id: str, fill: Fill, seq: int | None) -> None:
        """Write one fill and fsync it; returns only once the line is on disk."""
        line = _encode(JournalEntry(venue, instance_id, fill, seq)) + b"\n"
        if self._size + len(line) > self.max_bytes:
            raise FillJournalFull(
                f"fill journal {self.path} is at {self._size} of {self.max_bytes} bytes: fill "
                f"{fill.fill_id} is not durable"
            )
        written = os.write(self._fd, line)
        if written != len(line):
            raise OSError(f"short write to {self.path}: {written} of {len(line)} bytes")
        os.fsync(self._fd)
        self._size += len(line)
        self.lines += 1

    def entries(self) -> list[JournalEntry]:
        """Every line in order. Raises FillJournalCorrupt naming the bad lines (each counted once)."""
        entries: list[JournalEntry] = []
        problems: list[str] = []
        with self.path.open("rb") as f:
            for number, line in enumerate(f, start=1):
                if not line.endswith(b"\n"):
                    problems.append(f"line {number}: truncated (no newline)")
                    continue
                try:
                    entries.append(_decode(line))
                except (ValueError, KeyError, TypeError) as exc:
                    problems.append(f"line {number}: {type(exc).__name__}: {exc}")
        if problems:
            self.corrupt_lines = len(problems)
            shown = "; ".join(problems[:5])
            raise FillJournalCorrupt(f"fill journal {self.path}: {len(problems)} bad line(s): {shown}")
        return entries

    def clear(self) -> None:
        """Empty the journal (after every entry is committed to the ledger)."""
        os.ftruncate(self._fd, 0)
        os.fsync(self._fd)
        self._size = 0
        self.lines = 0


def replay_into(ledger: Ledger, entries: list[JournalEntry]) -> int:
    """Commit the entries in order; returns how many were new to the ledger (the rest were duplicates)."""
    new = 0
    for e in entries:
        if ledger.record_fill(e.venue, e.instance_id, e.fill, e.seq) is not None:
            new += 1
    return new
