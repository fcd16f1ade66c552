"""The local fill journal on a real file and a real ledger (SQLite file and PostgreSQL): each append is on
disk when it returns, replay is idempotent, the size cap refuses, and a corrupt line is named, counted and
refused without clearing anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.config.settings import Settings
from flashmm_engine.engine.fill_catchup import open_fill_journal
from flashmm_engine.errors import CommandFailed
from flashmm_engine.ledger.fill_journal import FillJournal, FillJournalCorrupt, FillJournalFull, replay_into
from flashmm_engine.ledger.journal import LedgerJournal
from flashmm_engine.ledger.store import Ledger
from flashmm_engine.types import Fill, Liquidity, Side

VENUE = "sim/SIM:ETHUSD"
MARKET = "SIM:ETHUSD"


def fill(n: int, side: Side = Side.BUY) -> Fill:
    return Fill(f"f{n}", f"e1-{n}", f"v{n}", MARKET, side, 2000_00 + n, 3, 5, Liquidity.MAKER, 1_000 + n, 0)


def opened(url: str) -> Ledger:
    ledger = Ledger(url)
    ledger.open_market(VENUE, MARKET, 0, 1_000_000_000, 1)
    return ledger


def test_an_append_is_on_disk_when_it_returns(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    journal = FillJournal(path, 1 << 20)
    journal.append(VENUE, "e1", fill(1), 7)
    # read through a separate file object: what the OS has, not a buffer of ours
    reopened = FillJournal(path, 1 << 20)
    (entry,) = reopened.entries()
    assert (entry.fill, entry.seq, entry.venue, reopened.lines) == (fill(1), 7, VENUE, 1)
    journal.close()
    reopened.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_replay_is_idempotent_and_equals_direct_commits(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'l.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    fills = [fill(1), fill(2, Side.SELL), fill(3)]
    journal = FillJournal(tmp_path / "j.jsonl", 1 << 20)
    ledger = opened(url)
    ledger.record_fill(VENUE, "e1", fills[0])  # committed before the outage, journaled again after
    for f in fills:
        journal.append(VENUE, "e1", f, None)
    assert replay_into(ledger, journal.entries()) == 2
    assert replay_into(ledger, journal.entries()) == 0
    direct = opened(f"sqlite:///{tmp_path / 'direct.db'}")
    for f in fills:
        direct.record_fill(VENUE, "e1", f)
    assert ledger.holdings(VENUE, MARKET) == direct.holdings(VENUE, MARKET)
    assert sorted(ledger.fill_ids(VENUE)) == ["f1", "f2", "f3"]
    journal.clear()
    assert journal.entries() == [] and journal.lines == 0 and journal.size == 0
    ledger.close()
    direct.close()


def test_the_size_cap_refuses_and_keeps_what_it_has(tmp_path: Path) -> None:
    journal = FillJournal(tmp_path / "j.jsonl", 600)
    appended = 0
    with pytest.raises(FillJournalFull, match="not durable"):
        for n in range(100):
            journal.append(VENUE, "e1", fill(n), n)
            appended += 1
    assert 0 < appended < 100
    assert journal.size <= 600
    assert [e.fill.fill_id for e in journal.entries()] == [f"f{n}" for n in range(appended)]


@pytest.mark.parametrize(
    "bad",
    [b"{not json\n", b"[1]\n", b'{"venue": "x"}\n', b'{"side": 0}\n', b"truncated-no-newline"],
)
def test_a_corrupt_line_is_counted_and_refused(tmp_path: Path, bad: bytes) -> None:
    path = tmp_path / "j.jsonl"
    journal = FillJournal(path, 1 << 20)
    journal.append(VENUE, "e1", fill(1), 1)
    if bad.startswith(b'{"side"'):
        good = path.read_bytes()
        bad = good.replace(b'"side":1', b'"side":0')
    with path.open("ab") as f:
        f.write(bad)
    if bad.endswith(b"\n"):  # a torn last line stays last: nothing can be appended after it
        journal.append(VENUE, "e1", fill(2), 2)
    with pytest.raises(FillJournalCorrupt, match=r"1 bad line\(s\): line 2"):
        journal.entries()
    assert journal.corrupt_lines == 1
    assert path.read_bytes().count(b"f1") >= 1, "a refused journal is left as it was"


async def test_a_journal_left_by_a_previous_run_is_committed_at_start(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, engine=EngineSettings(fill_journal_dir=tmp_path / "fj"))
    left = FillJournal(tmp_path / "fj" / "e1-SIM_ETHUSD.jsonl", 1 << 20)
    for n in (1, 2):
        left.append(VENUE, "e1", fill(n), n)
    left.close()
    ledger = LedgerJournal(opened(f"sqlite:///{tmp_path / 'l.db'}"))
    ledger.ledger.record_fill(VENUE, "e1", fill(1))  # the first made it before the crash
    journal = await open_fill_journal(settings, MARKET, ledger)
    assert journal.lines == 0 and journal.path.stat().st_size == 0
    assert sorted(ledger.ledger.fill_ids(VENUE)) == ["f1", "f2"]
    assert ledger.ledger.cursor("e1", VENUE) == 2
    journal.close()
    await ledger.close()


async def test_a_corrupt_journal_at_start_stops_the_start_naming_the_line(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, engine=EngineSettings(fill_journal_dir=tmp_path / "fj"))
    path = tmp_path / "fj" / "e1-SIM_ETHUSD.jsonl"
    left = FillJournal(path, 1 << 20)
    left.append(VENUE, "e1", fill(1), 1)
    left.close()
    with path.open("ab") as f:
        f.write(b'{"fill_id": 3}\n')
    before = path.read_bytes()
    ledger = LedgerJournal(opened(f"sqlite:///{tmp_path / 'l.db'}"))
    with pytest.raises(CommandFailed, match=r"SIM:ETHUSD: fill journal .* 1 bad line\(s\): line 2: KeyError"):
        await open_fill_journal(settings, MARKET, ledger)
    assert path.read_bytes() == before, "nothing replayed or cleared"
    assert ledger.ledger.fill_ids(VENUE) == []
    await ledger.close()
