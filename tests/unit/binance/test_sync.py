"""Diff-depth sync rules for spot and USD-M futures, exactly as Binance documents them."""

from __future__ import annotations

from flashmm_engine.marketdata.book import OrderBook
from flashmm_engine.marketdata.records import DepthDiff, DepthSnapshot
from flashmm_engine.venues.binance.markets import BinanceMarket
from flashmm_engine.venues.binance.sync import DepthSync, SyncOutcome


def diff(first: int, final: int, prev: int = -1, bid: tuple[int, int] = (100, 1)) -> DepthDiff:
    return DepthDiff(0, 0, first, final, prev, [bid[0]], [bid[1]], [], [])


def snapshot(last_update_id: int) -> DepthSnapshot:
    return DepthSnapshot(0, 0, last_update_id, [(100, 9), (99, 9)], [(101, 9)])


def new_sync(market: BinanceMarket) -> tuple[DepthSync, list[int]]:
    applied: list[int] = []
    sync = DepthSync(market, OrderBook(), on_applied=lambda d: applied.append(d.final_id))
    return sync, applied


def test_spot_buffers_drops_covered_and_chains() -> None:
    sync, applied = new_sync("spot")
    for d in (diff(90, 95), diff(96, 100), diff(101, 104, bid=(100, 4))):
        assert sync.on_diff(d) is SyncOutcome.BUFFERED
    assert sync.on_snapshot(snapshot(100))  # u <= 100 dropped; 101 <= 101 <= 104 is the first
    assert applied == [104]
    assert sync.book.bids[100] == 4
    assert sync.on_diff(diff(105, 110)) is SyncOutcome.APPLIED
    assert sync.on_diff(diff(105, 110)) is SyncOutcome.STALE  # a duplicate is ignored, not applied twice
    assert sync.on_diff(diff(112, 115)) is SyncOutcome.GAP  # 111 missing
    assert not sync.synced and sync.gaps == 1 and not sync.book.bids
    assert applied == [104, 110]


def test_spot_first_diff_must_straddle_snapshot() -> None:
    sync, applied = new_sync("spot")
    sync.on_diff(diff(105, 110))
    assert not sync.on_snapshot(snapshot(100))  # 101 is missing: the snapshot is too old
    assert sync.rejected_snapshots == 1 and not sync.synced
    assert sync.on_snapshot(snapshot(107))
    assert applied == [110]


def test_spot_snapshot_newer_than_buffer_waits_for_straddling_diff() -> None:
    sync, applied = new_sync("spot")
    sync.on_diff(diff(90, 95))
    assert sync.on_snapshot(snapshot(100))
    assert sync.synced and applied == []
    assert sync.on_diff(diff(96, 100)) is SyncOutcome.STALE
    assert sync.on_diff(diff(101, 102)) is SyncOutcome.APPLIED


def test_usdm_uses_pu_and_keeps_diff_ending_at_snapshot() -> None:
    sync, applied = new_sync("usdm")
    sync.on_diff(diff(80, 90, prev=79))
    sync.on_diff(diff(91, 100, prev=90))  # u == lastUpdateId: futures keep it (drop only u < lastUpdateId)
    sync.on_diff(diff(101, 110, prev=100))
    assert sync.on_snapshot(snapshot(100))
    assert applied == [100, 110]
    # futures chain on pu, not on U: ids may skip as long as pu matches
    assert sync.on_diff(diff(150, 160, prev=110)) is SyncOutcome.APPLIED
    assert sync.on_diff(diff(170, 180, prev=165)) is SyncOutcome.GAP
    assert sync.gaps == 1


def test_usdm_spot_rule_difference_at_boundary() -> None:
    # spot drops u == lastUpdateId; futures applies it as the first diff
    spot, spot_applied = new_sync("spot")
    usdm, usdm_applied = new_sync("usdm")
    for sync in (spot, usdm):
        sync.on_diff(diff(95, 100, prev=94))
        sync.on_snapshot(snapshot(100))
    assert spot_applied == [] and usdm_applied == [100]


def test_resync_after_gap_with_new_snapshot() -> None:
    sync, applied = new_sync("spot")
    sync.on_snapshot(snapshot(100))
    sync.on_diff(diff(101, 105))
    assert sync.on_diff(diff(120, 125)) is SyncOutcome.GAP
    sync.on_diff(diff(126, 130))
    assert sync.on_snapshot(snapshot(127))  # 120..125 covered and dropped; 126 <= 128 <= 130 straddles
    assert applied == [105, 130]
    assert sync.on_diff(diff(131, 131)) is SyncOutcome.APPLIED
