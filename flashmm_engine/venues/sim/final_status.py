"""Final statuses of finished orders, kept for status queries and duplicate-client-id checks, capped."""

from __future__ import annotations

from collections import OrderedDict

from flashmm_engine.types import OrderStatus

MAX_FINAL_ORDERS = 50_000
"""Finished client ids remembered (status queries, duplicate-id rejects); the oldest are forgotten first."""


class FinalStatuses:
    """The final status of finished orders, capped: a client id reused after MAX_FINAL_ORDERS newer
    finished orders is no longer recognised as a duplicate."""

    def __init__(self, cap: int = MAX_FINAL_ORDERS) -> None:
        self._cap = cap
        self._status: OrderedDict[tuple[str, str], OrderStatus] = OrderedDict()

    def __len__(self) -> int:
        return len(self._status)

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._status

    def get(self, key: tuple[str, str]) -> OrderStatus | None:
        return self._status.get(key)

    def set(self, key: tuple[str, str], status: OrderStatus) -> None:
        self._status[key] = status
        self._status.move_to_end(key)
        if len(self._status) > self._cap:
            self._status.popitem(last=False)
