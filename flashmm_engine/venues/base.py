"""The venue interface every trading venue implements (ARCHITECTURE section 4)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from decimal import Decimal
from typing import Protocol, runtime_checkable

from flashmm_engine.types import (
    CancelRequest,
    MarketEvent,
    MarketSpec,
    OpenOrder,
    OrderRequest,
    PrivateEvent,
)

RawTap = Callable[[int, str, bytes | str, MarketSpec | None], None]
"""(ts_local_ns, market, raw message, the market's spec if known): a venue client calls it for every
market-data message it receives, before decoding it (the engine records them, `engine/recording.py`)."""


class VenueError(RuntimeError):
    """The venue could not be reached or answered with something we cannot use."""


@runtime_checkable
class Venue(Protocol):
    """An async order-entry and market-data connection to one venue.

    `place` and `cancel` only submit: the outcome arrives on `events()` as acks, rejects and fills.
    `open_orders`, `balances` and `positions` are the reconciliation queries the engine runs before it quotes.
    """

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def place(self, orders: Sequence[OrderRequest]) -> None: ...

    async def cancel(self, cancels: Sequence[CancelRequest]) -> None: ...

    async def open_orders(self, market: str | None = None) -> list[OpenOrder]: ...

    async def balances(self) -> dict[str, Decimal]: ...

    async def positions(self) -> dict[str, int]: ...

    def events(self) -> AsyncIterator[PrivateEvent]: ...

    def market_data(self) -> AsyncIterator[MarketEvent]: ...
