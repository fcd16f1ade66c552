"""The runtime's link to Sei through `SeiVenue`: unsequenced (fills come from chain events), position
reconciled from the bank balance of the base denom; cash is not compared, since gas is paid in another
denom than the market's quote."""

from __future__ import annotations

from flashmm_engine.config.settings import Settings
from flashmm_engine.engine.links import AccountView
from flashmm_engine.errors import InputError
from flashmm_engine.types import QuoteBatch
from flashmm_engine.venues.base import RawTap, Venue
from flashmm_engine.venues.sei.venue import SeiVenue


class SeiLink:
    def __init__(self, venue: SeiVenue) -> None:
        self.sei = venue
        self.venue: Venue = venue
        self.spec = venue.market.spec
        self.venue_id = f"sei/{self.spec.symbol}"

    @property
    def sequenced(self) -> bool:
        return False

    def event_seq(self) -> int | None:
        return None

    def venue_session(self) -> str | None:
        return None

    async def snapshot(self) -> AccountView:
        positions = await self.sei.positions()
        return AccountView(None, positions.get(self.spec.symbol, 0), None)

    async def send(self, batch: QuoteBatch) -> None:
        await self.sei.submit_cycle(batch.cancels, batch.places)


async def connect_sei(settings: Settings, market: str, raw_tap: RawTap | None = None) -> SeiLink:
    if settings.sei.market != market:
        raise InputError(f"market {market!r}: the Sei venue is configured for {settings.sei.market!r}")
    venue = SeiVenue(settings.sei)
    venue.raw_tap = raw_tap
    await venue.connect()
    return SeiLink(venue)
