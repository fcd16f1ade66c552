"""Binance diff-depth synchronisation, exactly as Binance documents it for spot and USD-M futures.

Diffs are buffered until a REST snapshot arrives; diffs the snapshot already covers are dropped; the first
diff applied must straddle the snapshot's lastUpdateId; every later diff must chain onto the previous one.
A break in the chain clears the book and asks for a new snapshot. The rules per market:

- spot: drop `u <= lastUpdateId`; first applied has `U <= lastUpdateId + 1 <= u`; then `U == previous u + 1`.
- usdm: drop `u < lastUpdateId`; first applied has `U <= lastUpdateId <= u`; then `pu == previous u`.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable

from flashmm_engine.marketdata.book import OrderBook
from flashmm_engine.marketdata.records import DepthDiff, DepthSnapshot
from flashmm_engine.venues.binance.markets import BinanceMarket

MAX_BUFFERED_DIFFS = 20_000
"""Diffs kept while waiting for a snapshot; older ones are dropped (a snapshot that old would not chain)."""


class SyncOutcome(enum.Enum):
    APPLIED = "applied"
    BUFFERED = "buffered"  # waiting for a snapshot
    STALE = "stale"  # already covered by the book (snapshot or an earlier diff, e.g. a duplicate): ignored
    GAP = "gap"  # chain broken: the book was cleared and a new snapshot is needed


def _ignore(_: object) -> None:
    return None


class DepthSync:
    """Keeps `book` in sync with a diff stream plus snapshots.

    `on_loaded` sees each snapshot right after it replaces the book and `on_applied` each diff right after it
    lands, so observers see the book exactly as it was at that update id.
    """

    def __init__(
        self,
        market: BinanceMarket,
        book: OrderBook,
        on_applied: Callable[[DepthDiff], None] = _ignore,
        on_loaded: Callable[[DepthSnapshot], None] = _ignore,
    ) -> None:
        self.market = market
        self.book = book
        self.on_applied = on_applied
        self.on_loaded = on_loaded
        self.buffer: deque[DepthDiff] = deque(maxlen=MAX_BUFFERED_DIFFS)
        self.synced = False
        self.last_update_id = -1
        self._awaiting_first = False
        self._spot = market == "spot"
        self.gaps = 0
        self.stale_diffs = 0
        self.rejected_snapshots = 0

    def reset(self) -> None:
        """Forget the book (e.g. on reconnect): buffer diffs until the next snapshot."""
        self.book.clear()
        self.buffer.clear()
        self.synced = False
        self._awaiting_first = False

    def on_diff(self, diff: DepthDiff) -> SyncOutcome:
        if not self.synced:
            self.buffer.append(diff)
            return SyncOutcome.BUFFERED
        if self._awaiting_first:
            if self._snapshot_covers(diff, self.last_update_id):
                self.stale_diffs += 1
                return SyncOutcome.STALE
            chained = self._straddles(diff, self.last_update_id)
        elif diff.final_id <= self.last_update_id:
            self.stale_diffs += 1
            return SyncOutcome.STALE
        elif self._spot:
            chained = diff.first_id == self.last_update_id + 1
        else:
            chained = diff.prev_final_id == self.last_update_id
        if not chained:
            self._break(diff)
            return SyncOutcome.GAP
        self._apply(diff)
        return SyncOutcome.APPLIED

    def on_snapshot(self, snapshot: DepthSnapshot) -> bool:
        """Apply a snapshot and the buffered diffs after it. False if it cannot chain (need a newer one)."""
        lid = snapshot.last_update_id
        pending = [d for d in self.buffer if not self._snapshot_covers(d, lid)]
        if pending and not self._straddles(pending[0], lid):
            self.rejected_snapshots += 1
            return False
        self.book.load(snapshot.bids, snapshot.asks)
        self.buffer.clear()
        self.synced = True
        self._awaiting_first = True
        self.last_update_id = lid
        self.on_loaded(snapshot)
        for diff in pending:
            if self.on_diff(diff) is SyncOutcome.GAP:
                break
        return True

    def _snapshot_covers(self, diff: DepthDiff, lid: int) -> bool:
        return diff.final_id <= lid if self._spot else diff.final_id < lid

    def _straddles(self, diff: DepthDiff, lid: int) -> bool:
        if self._spot:
            return diff.first_id <= lid + 1 <= diff.final_id
        return diff.first_id <= lid <= diff.final_id

    def _apply(self, diff: DepthDiff) -> None:
        self.book.apply_diff(diff)
        self.last_update_id = diff.final_id
        self._awaiting_first = False
        self.on_applied(diff)

    def _break(self, diff: DepthDiff) -> None:
        self.gaps += 1
        self.reset()
        self.buffer.append(diff)
