"""Client ids: deterministic, and unique across restarts when the sequence store survives them."""

from __future__ import annotations

import pytest

from flashmm_engine.execution.client_ids import ClientIdSource, MemorySequenceStore


def test_ids_are_deterministic_and_blocks_are_reserved_once() -> None:
    store = MemorySequenceStore()
    ids = ClientIdSource("e1", store, block=3)
    assert [ids.next_id() for _ in range(4)] == ["e1-1", "e1-2", "e1-3", "e1-4"]
    assert store.reservations == 2
    assert ids.owns("e1-9") and not ids.owns("e2-1")
    again = ClientIdSource("e1", MemorySequenceStore(), block=3)
    assert again.next_id() == "e1-1"  # same inputs, same ids: a venue can deduplicate a replay


def test_a_restart_never_reuses_an_id() -> None:
    store = MemorySequenceStore()  # stands in for the ledger, which outlives the process
    first = ClientIdSource("e1", store, block=10)
    issued = {first.next_id() for _ in range(7)}
    second = ClientIdSource("e1", store, block=10)  # the restarted engine
    after = {second.next_id() for _ in range(25)}
    assert not issued & after and min(int(i.split("-")[1]) for i in after) == 11
    other = ClientIdSource("e2", store, block=10)
    assert other.next_id() == "e2-1"  # instances have their own sequences and prefixes


@pytest.mark.parametrize("bad", ["", "e-1", "x" * 17, "ü"])
def test_bad_instance_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="instance id"):
        ClientIdSource(bad, MemorySequenceStore())
