"""The sequence manager: one owner, advance on code 0 only, fix from code 32, periodic resync."""

from __future__ import annotations

import asyncio

import pytest

from flashmm_engine.venues.sei.sequence import (
    AccountInfo,
    BroadcastResult,
    SequenceManager,
    expected_sequence,
)


class Chain:
    """A minimal chain-side sequence check, so the manager is exercised against real rules."""

    def __init__(self, sequence: int = 0) -> None:
        self.sequence = sequence
        self.committed = sequence
        self.fetches = 0

    async def fetch(self) -> AccountInfo:
        self.fetches += 1
        return AccountInfo(9, self.committed)

    async def check(self, info: AccountInfo) -> BroadcastResult:
        await asyncio.sleep(0)  # let other submitters interleave if the lock failed
        if info.sequence != self.sequence:
            log = f"account sequence mismatch, expected {self.sequence}, got {info.sequence}: "
            log += "incorrect account sequence"
            return BroadcastResult(32, "", log)
        self.sequence += 1
        return BroadcastResult(0, f"H{info.sequence}", "[]")


def test_expected_sequence_parses_the_real_message() -> None:
    assert expected_sequence("account sequence mismatch, expected 5, got 4: incorrect account sequence") == 5
    assert expected_sequence("insufficient fees") is None


async def test_concurrent_submits_use_consecutive_sequences() -> None:
    chain = Chain(sequence=3)
    chain.committed = 3
    manager = SequenceManager(chain.fetch, resync_interval_s=1e9)
    results = await asyncio.gather(*(manager.submit(chain.check) for _ in range(20)))
    assert all(r.accepted for r in results)
    assert sorted(r.txhash for r in results) == sorted(f"H{s}" for s in range(3, 23))
    assert manager.mismatches == 0 and chain.fetches == 1


async def test_code_32_resyncs_from_the_error_and_retries() -> None:
    chain = Chain()
    manager = SequenceManager(chain.fetch, resync_interval_s=1e9)
    assert (await manager.submit(chain.check)).accepted
    chain.sequence += 4  # someone else used the key
    result = await manager.submit(chain.check)
    assert result.accepted and manager.mismatches == 1
    assert manager.current == AccountInfo(9, chain.sequence)


async def test_other_failures_do_not_advance_and_errors_force_resync() -> None:
    chain = Chain()
    manager = SequenceManager(chain.fetch, resync_interval_s=1e9)

    async def low_fee(info: AccountInfo) -> BroadcastResult:
        return BroadcastResult(13, "", "insufficient fees")

    assert (await manager.submit(low_fee)).code == 13
    assert manager.current == AccountInfo(9, 0)

    async def broken(info: AccountInfo) -> BroadcastResult:
        raise ConnectionError("node went away")

    with pytest.raises(ConnectionError):
        await manager.submit(broken)
    assert manager.current is None
    assert (await manager.submit(chain.check)).accepted and chain.fetches == 2


async def test_periodic_resync_never_moves_behind_the_mempool() -> None:
    now = [0.0]
    chain = Chain()
    manager = SequenceManager(chain.fetch, resync_interval_s=10, monotonic=lambda: now[0])
    for _ in range(3):
        assert (await manager.submit(chain.check)).accepted
    now[0] = 11  # stale: resync, but REST still reports the committed sequence 0
    assert (await manager.submit(chain.check)).accepted
    assert chain.fetches == 2 and manager.mismatches == 0
    chain.sequence = chain.committed = 50  # the chain moved ahead (another client): resync follows it
    now[0] = 22
    assert (await manager.submit(chain.check)).accepted and manager.current == AccountInfo(9, 51)
