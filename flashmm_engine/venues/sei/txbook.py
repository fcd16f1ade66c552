"""Our broadcast transactions until their outcome is known, then for a retention window.

Unresolved txs are indexed separately, so the per-block lookup walks only those; resolved ones are pruned
oldest first once older than the retention window or beyond the cap.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from flashmm_engine.venues.sei.codec import ExecuteCall

MAX_RESOLVED_TXS = 10_000


@dataclass(frozen=True, slots=True)
class CycleItem:
    """One message of a quote-cycle tx: a cancel or a place of `client_id`."""

    client_id: str
    call: ExecuteCall
    is_cancel: bool


@dataclass(slots=True)
class OurTx:
    """A tx we broadcast: which message is which order, until its result is seen."""

    items: tuple[CycleItem, ...]
    submitted_ns: int
    resolved: bool = False
    timed_out: bool = False
    """No outcome within the tx timeout: its orders are UNKNOWN and it is still looked up."""

    @property
    def places(self) -> dict[int, str]:
        return {i: it.client_id for i, it in enumerate(self.items) if not it.is_cancel}


class TxBook:
    def __init__(self, retention_ns: int, cap: int = MAX_RESOLVED_TXS) -> None:
        self._retention_ns = retention_ns
        self._cap = cap
        self._all: dict[str, OurTx] = {}
        self._open: dict[str, OurTx] = {}
        self._done: OrderedDict[str, int] = OrderedDict()

    def __len__(self) -> int:
        return len(self._all)

    def add(self, txhash: str, items: tuple[CycleItem, ...], now_ns: int) -> None:
        tx = OurTx(items, now_ns)
        self._all[txhash] = self._open[txhash] = tx

    def get(self, txhash: str) -> OurTx | None:
        return self._all.get(txhash)

    def forget(self, txhash: str) -> None:
        """A broadcast the node refused: it can never produce events."""
        self._all.pop(txhash, None)
        self._open.pop(txhash, None)

    def resolve(self, txhash: str, now_ns: int) -> None:
        tx = self._open.pop(txhash, None)
        if tx is None:
            return
        tx.resolved = True
        self._done[txhash] = now_ns
        self.prune(now_ns)

    def unresolved(self) -> list[tuple[str, OurTx]]:
        return list(self._open.items())

    @property
    def unresolved_count(self) -> int:
        return len(self._open)

    def prune(self, now_ns: int) -> None:
        done = self._done
        while done:
            txhash, at = next(iter(done.items()))
            if len(done) <= self._cap and now_ns - at <= self._retention_ns:
                break
            done.popitem(last=False)
            self._all.pop(txhash, None)
