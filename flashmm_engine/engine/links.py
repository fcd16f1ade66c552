"""One market's connection to its venue, with what the runtime needs beyond the Venue protocol: the
market spec, the ledger's name for the venue, one batch per cycle, and account snapshots for
reconciliation (sequenced where the venue can say as of which private event they are)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from pydantic import SecretStr

from flashmm_engine.config.settings import Settings
from flashmm_engine.errors import InputError
from flashmm_engine.types import NOTIONAL_SCALE, MarketSpec, QuoteBatch
from flashmm_engine.venues.base import RawTap, Venue
from flashmm_engine.venues.sim.client import SimVenueClient

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AccountView:
    """The venue's position (lots) and cash (notional units, None if not comparable) for one market, as of
    private event `seq` (None: the venue cannot say)."""

    seq: int | None
    position: int
    cash: int | None
    session: str | None = None
    """The venue session the snapshot is from (None: the venue has no sessions)."""


class MarketLink(Protocol):
    venue: Venue
    venue_id: str
    spec: MarketSpec

    @property
    def sequenced(self) -> bool: ...

    def event_seq(self) -> int | None:
        """Sequence of the private event `venue.events()` yielded last (None: unsequenced venue)."""

    def venue_session(self) -> str | None:
        """The venue session of the current connection (None: the venue has no sessions)."""

    async def snapshot(self) -> AccountView: ...

    async def send(self, batch: QuoteBatch) -> None: ...


def quote_to_units(spec: MarketSpec, amount: Decimal) -> int | None:
    """A quote-currency balance in notional units, or None when it is not a whole number of them."""
    units = amount * NOTIONAL_SCALE / (spec.tick_size * spec.lot_size)
    return int(units) if units == units.to_integral_value() else None


class SimLink:
    def __init__(self, client: SimVenueClient, market: str) -> None:
        self.venue: Venue = client
        self.client = client
        spec = client.specs.get(market)
        if spec is None:
            raise InputError(
                f"market {market!r} is not served by the sim venue at {client.url} (it serves "
                f"{sorted(client.specs)})"
            )
        self.spec = spec
        self.venue_id = f"sim/{market}"

    @property
    def sequenced(self) -> bool:
        return True

    def event_seq(self) -> int | None:
        return self.client.delivered_seq

    def venue_session(self) -> str | None:
        return self.client.session

    async def snapshot(self) -> AccountView:
        snap = await self.client.snapshot()
        cash = snap.balances.get(self.spec.quote)
        return AccountView(
            snap.seq,
            snap.positions.get(self.spec.symbol, 0),
            None if cash is None else quote_to_units(self.spec, cash),
            self.client.session,
        )

    async def send(self, batch: QuoteBatch) -> None:
        await self.client.batch(batch.cancels, batch.places)


async def connect_sim(
    settings: Settings, market: str, resume_after: int, session: str | None, raw_tap: RawTap | None = None
) -> SimLink:
    """`resume_after` counts in venue session `session` (None: not known)."""
    engine = settings.engine
    url = engine.sim_urls.get(market, f"ws://{settings.sim.host}:{settings.sim.port}")
    key = settings.sim.api_keys.get(engine.sim_account)
    if key is None:
        raise InputError(
            f"no API key for sim account {engine.sim_account!r}: set FLASHMM_SIM__API_KEYS "
            f"(found accounts {sorted(settings.sim.api_keys)})"
        )
    client = SimVenueClient(
        url, SecretStr(key.get_secret_value()), resume_after=resume_after, session=session
    )
    client.raw_tap = raw_tap
    await client.connect()
    try:
        return SimLink(client, market)
    except InputError:
        await client.close()
        raise
