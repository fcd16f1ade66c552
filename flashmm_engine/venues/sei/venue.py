"""SeiVenue: the Venue protocol over a CosmWasm order book on Sei's Cosmos side.

`place`/`cancel` only broadcast (sync mode = CheckTx only); acks, fills and cancel acks come from the
contract's events, read from the websocket, from tx lookups when an event is late, and from a tx search
that replays every websocket gap. The contract's order state is only a consistency check (alerts).
A cycle tx that fails on one message (e.g. cancelling an order that has just filled) is resubmitted
without that message.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal

import aiohttp
import orjson

from flashmm_engine.config.sei import SeiSettings
from flashmm_engine.service.backoff import Backoff
from flashmm_engine.service.clock import Clock, WallClock
from flashmm_engine.service.tasks import TaskTracker
from flashmm_engine.telemetry.bad_input import BadInputCounter
from flashmm_engine.types import (
    NS_PER_S,
    BookSnapshot,
    CancelRequest,
    MarketEvent,
    OpenOrder,
    OrderRequest,
    Reject,
    RejectReason,
    VenueEvent,
)
from flashmm_engine.venues.base import RawTap, VenueError
from flashmm_engine.venues.sei.codec import CodecError, ContractCodec, ExecuteCall, FinCodec
from flashmm_engine.venues.sei.events import EventFormatError, TxOutcome, outcome_from_rest
from flashmm_engine.venues.sei.orders import CycleItem, OrderTracker
from flashmm_engine.venues.sei.recovery import GapReplayer
from flashmm_engine.venues.sei.rest import SeiRest
from flashmm_engine.venues.sei.sequence import BroadcastResult, SequenceManager
from flashmm_engine.venues.sei.signing import TxSigner
from flashmm_engine.venues.sei.submit import CycleSubmitter, split_failed_message
from flashmm_engine.venues.sei.units import DenomMarket, UnitError
from flashmm_engine.venues.sei.ws import RecoveryFailed, TxSubscriber, contract_query

CONNECT_WAIT_S = 10.0
BOOK_DEPTH = 20
FEE_DENOM_DECIMALS = 6

log = logging.getLogger(__name__)


class SeiVenue:
    def __init__(
        self,
        settings: SeiSettings,
        signer: TxSigner | None = None,
        codec: ContractCodec | None = None,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        if not settings.contract_address:
            raise VenueError("FLASHMM_SEI__CONTRACT_ADDRESS is not set")
        self._s = settings
        self.market = DenomMarket.from_settings(settings)
        self.codec = codec or FinCodec(self.market)
        self._signer = signer or TxSigner.from_settings(settings)
        self.address = self._signer.address
        self._clock = clock or WallClock()
        self.tracker = OrderTracker(
            self.address, settings.contract_address, self.market, self.codec, settings.order_retention_s
        )
        self.bad_input = BadInputCounter(log)
        self.raw_tap: RawTap | None = None
        self._queue: asyncio.Queue[VenueEvent] = asyncio.Queue()
        self._tasks = TaskTracker("sei-venue")
        self._session: aiohttp.ClientSession | None = None
        self._rest: SeiRest | None = None
        self.submitter: CycleSubmitter | None = None
        self.gaps = GapReplayer(settings.contract_address, self._on_tx, self.bad_input)
        self.subscriber = TxSubscriber(
            settings.ws_url,
            contract_query(settings.contract_address),
            self._on_live_tx,
            self._on_subscribed,
            self.bad_input,
            backoff,
        )

    # --- lifecycle ---

    async def connect(self) -> None:
        self._session = aiohttp.ClientSession()
        self._rest = rest = SeiRest(self._s.rest_url, self._session)
        sequence = SequenceManager(lambda: rest.account(self.address), self._s.sequence_resync_s)
        self.submitter = CycleSubmitter(self._s, self._signer, rest, sequence)
        await sequence.resync()
        # contract txs from here on are covered: by the first subscription's replay, then live
        self.gaps.note_live_height(await rest.latest_height())
        self._tasks.spawn(self.subscriber.run(), "websocket")
        self._tasks.spawn(self._poll_loop(), "tx-poll")
        try:
            await asyncio.wait_for(self.subscriber.connected.wait(), CONNECT_WAIT_S)
        except TimeoutError:
            raise VenueError(
                f"no websocket subscription at {self._s.ws_url} within {CONNECT_WAIT_S}s"
            ) from None

    async def close(self) -> None:
        await self._tasks.shutdown()
        if self._session is not None:
            await self._session.close()

    def _rest_client(self) -> SeiRest:
        if self._rest is None:
            raise VenueError("SeiVenue is not connected")
        return self._rest

    # --- order entry ---

    async def place(self, orders: Sequence[OrderRequest]) -> None:
        await self.submit_cycle((), orders)

    async def cancel(self, cancels: Sequence[CancelRequest]) -> None:
        await self.submit_cycle(cancels, ())

    async def submit_cycle(
        self, cancels: Sequence[CancelRequest], places: Sequence[OrderRequest]
    ) -> BroadcastResult | None:
        """One transaction with this cycle's cancels (first) and places; None if nothing was sendable."""
        if self.submitter is None:
            raise VenueError("SeiVenue is not connected")
        ts = self._clock.now_ns()
        items: list[CycleItem] = []
        for c in cancels:
            idx = self.tracker.order_idx(c.client_id)
            if idx is None:
                self._emit(
                    [Reject(c.client_id, RejectReason.UNKNOWN_ORDER, "no open order with that id", ts)]
                )
                continue
            items.append(CycleItem(c.client_id, self.codec.cancel(idx), is_cancel=True))
        for o in places:
            call = self._place_call(o, ts)
            if call is not None:
                self.tracker.register(o)
                items.append(CycleItem(o.client_id, call, is_cancel=False))
        return await self._submit_items(items)

    async def _submit_items(self, items: list[CycleItem]) -> BroadcastResult | None:
        """Broadcast; a tx refused on one message (simulation names it) goes again without it."""
        if self.submitter is None:
            raise VenueError("SeiVenue is not connected")
        result = None
        while items:
            sent = tuple(items)
            result = await self.submitter.submit(
                [it.call for it in sent], functools.partial(self._announce, sent)
            )
            if result.accepted:
                return result
            self.tracker.txs.forget(result.txhash)
            items = self._on_cycle_failed(sent, f"code {result.code}: {result.raw_log}")
        return result

    def _announce(self, items: tuple[CycleItem, ...], txhash: str) -> None:
        self.tracker.on_accepted(txhash, items, self._clock.now_ns())

    def _on_cycle_failed(self, items: tuple[CycleItem, ...], detail: str) -> list[CycleItem]:
        """Report the message the log blames (or all of them) and return the rest of the cycle."""
        failed, retry = split_failed_message(items, detail)
        ts = self._clock.now_ns()
        self._emit([self.tracker.on_item_failed(it, detail, ts) for it in failed])
        return retry

    def _place_call(self, o: OrderRequest, ts: int) -> ExecuteCall | None:
        reason, detail = None, ""
        if o.market != self.market.spec.symbol:
            reason, detail = RejectReason.UNKNOWN_MARKET, f"this venue trades {self.market.spec.symbol}"
        elif o.client_id in self.tracker.orders:
            reason, detail = RejectReason.DUPLICATE_CLIENT_ID, "client id already used"
        else:
            try:
                return self.codec.place(o.side, o.price, o.size)
            except (CodecError, UnitError) as exc:
                reason, detail = RejectReason.OFF_TICK, str(exc)
        self._emit([Reject(o.client_id, reason, detail, ts)])
        return None

    # --- events ---

    def _emit(self, events: Sequence[VenueEvent]) -> None:
        for ev in events:
            self._queue.put_nowait(ev)

    async def _on_live_tx(self, outcome: TxOutcome) -> None:
        self.gaps.note_live_height(outcome.height)
        await self._on_tx(outcome)

    async def _on_tx(self, outcome: TxOutcome) -> None:
        self._emit(self.tracker.on_tx(outcome, self._clock.now_ns()))
        while self.tracker.failed:
            ours, detail = self.tracker.failed.pop(0)
            retry = self._on_cycle_failed(ours.items, detail)
            if retry:
                self._tasks.spawn(self._resubmit(retry), "cycle-resubmit")

    async def _resubmit(self, items: list[CycleItem]) -> None:
        try:
            await self._submit_items(items)
        except (aiohttp.ClientError, TimeoutError, VenueError) as exc:
            self._on_cycle_failed(tuple(items), f"resubmission failed: {exc!r}")

    async def _on_subscribed(self) -> None:
        try:
            await self._recover()
        except (aiohttp.ClientError, TimeoutError, VenueError, CodecError) as exc:
            raise RecoveryFailed(f"gap recovery failed: {exc!r}") from exc

    async def _recover(self) -> None:
        """Contract snapshot first, then the gap's txs up to a height at or after it, then our txs that
        failed (they carry no contract event), then the snapshot as a consistency check."""
        rest = self._rest_client()
        snapshot = await rest.smart_query(self._s.contract_address, self.codec.orders_by_user(self.address))
        await self.gaps.replay(rest)
        await self._poll_txs(min_age_s=0.0)
        self._emit(self.tracker.check_consistency(self.codec.parse_orders(snapshot), self._clock.now_ns()))

    async def _poll_loop(self) -> None:
        min_age = self._s.tx_poll_blocks * self._s.block_time_s
        next_check = 0.0
        while True:
            await asyncio.sleep(self._s.block_time_s)
            try:
                await self._poll_txs(min_age)
                due = time.monotonic() >= next_check and self.subscriber.connected.is_set()
                if due and self.tracker.pending_checks():
                    next_check = time.monotonic() + min_age
                    await self._recover()  # a failed cancel: learn the order's fate from the chain
            except (aiohttp.ClientError, TimeoutError, VenueError, CodecError) as exc:
                log.warning("tx lookup or consistency check failed: %s", exc)

    async def _poll_txs(self, min_age_s: float) -> None:
        """Look up our unresolved txs by hash. No outcome within the tx timeout: its orders are UNKNOWN
        and it is still looked up; none within the retention window after that: given up."""
        now = self._clock.now_ns()
        timeout_s, give_up_s = self._s.tx_timeout_s, self._s.tx_timeout_s + self._s.order_retention_s
        for txhash, ours in self.tracker.unresolved():
            age = (now - ours.submitted_ns) / NS_PER_S
            if age < min_age_s:
                continue
            response = await self._rest_client().get_tx(txhash)
            if response is not None:
                try:
                    await self._on_tx(outcome_from_rest(response))
                except EventFormatError as exc:
                    self.bad_input.record("tx_lookup", str(exc))
            elif age > give_up_s:
                self._emit(self.tracker.give_up(txhash, now))
            elif age > timeout_s and not ours.timed_out:
                self._emit(self.tracker.on_tx_timeout(txhash, now))
        self.tracker.prune(now)

    async def events(self) -> AsyncIterator[VenueEvent]:
        while True:
            yield await self._queue.get()

    async def market_data(self) -> AsyncIterator[MarketEvent]:
        """Book snapshots from the contract's `book` query, once per block."""
        seq = 0
        while True:
            response = await self._rest_client().smart_query(
                self._s.contract_address, self.codec.book(BOOK_DEPTH)
            )
            ts = self._clock.now_ns()
            if self.raw_tap is not None:
                self.raw_tap(ts, self.market.spec.symbol, orjson.dumps(response), self.market.spec)
            bids, asks = self.codec.parse_book(response)
            seq += 1
            yield BookSnapshot(ts, ts, self.market.spec.symbol, seq, tuple(bids), tuple(asks))
            await asyncio.sleep(self._s.block_time_s)

    # --- reconciliation queries ---

    async def open_orders(self, market: str | None = None) -> list[OpenOrder]:
        return [o for o in self.tracker.open_orders() if market is None or o.market == market]

    async def balances(self) -> dict[str, Decimal]:
        raw = await self._rest_client().balances(self.address)
        m = self.market
        decimals = {m.base_denom: m.base_decimals, m.quote_denom: m.quote_decimals}
        decimals.setdefault(self._s.fee_denom, FEE_DENOM_DECIMALS)
        return {denom: Decimal(raw.get(denom, 0)).scaleb(-d) for denom, d in decimals.items()}

    async def positions(self) -> dict[str, int]:
        raw = await self._rest_client().balances(self.address)
        return {self.market.spec.symbol: raw.get(self.market.base_denom, 0) // self.market.base_raw(1)}
