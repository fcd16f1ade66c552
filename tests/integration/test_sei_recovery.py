"""Websocket gaps are recovered exactly: the gap's contract txs are replayed from the node's tx index
(GET /cosmos/tx/v1beta1/txs), so every fill keeps its own price, fee and liquidity; the contract's
order state only checks the result, alerting (never inventing fills) when the two disagree."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import aiohttp
import pytest

from flashmm_engine.telemetry.bad_input import BadInputCounter
from flashmm_engine.types import Ack, Fill, Liquidity, OrderRequest, Side, VenueEvent
from flashmm_engine.venues.sei.events import TxOutcome
from flashmm_engine.venues.sei.recovery import GapReplayer
from flashmm_engine.venues.sei.rest import SeiRest
from flashmm_engine.venues.sei.stub.server import StubNode
from flashmm_engine.venues.sei.venue import SeiVenue
from tests.integration.sei_support import (
    collect,
    lift_ws_outage,
    start_ws_outage,
    taker_order,
    wait_blocks,
)

MARKET = "sei:ETH/USDC"
PRICE = 250_000
NOTICE_TIMEOUT_S = 10.0
"""A guard only: the poll ends as soon as the venue sees its websocket gone."""
POLL_S = 0.005
Key = tuple[int, int, int, Liquidity]


def bid(client_id: str, size: int, price: int = PRICE) -> OrderRequest:
    return OrderRequest(client_id, MARKET, Side.BUY, price, size)


def filled(events: list[VenueEvent], client_id: str) -> int:
    return sum(e.size for e in events if isinstance(e, Fill) and e.client_id == client_id)


def chain_fills(node: StubNode, owner: str) -> dict[str, Key]:
    """Our fills as the chain recorded them, read straight from the stub's executed txs."""
    market = node.chain.contract.market
    out: dict[str, Key] = {}
    for rec in node.chain.txs.values():
        for index, event in enumerate(rec.events):
            attrs = {a["key"]: a["value"] for a in event["attributes"]}
            if event["type"] != "wasm-fill" or attrs["owner"] != owner:
                continue
            out[f"{rec.txhash}:{attrs['msg_index']}:{index}"] = (
                market.price_ticks(Decimal(attrs["price"])),
                market.lots(int(attrs["base_amount"])),
                market.quote_raw_to_notional(int(attrs["fee_amount"])),
                Liquidity(attrs["liquidity"]),
            )
    return out


async def drop_websocket(node: StubNode, venue: SeiVenue) -> None:
    await start_ws_outage(node)
    deadline = asyncio.get_running_loop().time() + NOTICE_TIMEOUT_S
    while asyncio.get_running_loop().time() < deadline:
        if not venue.subscriber.connected.is_set():
            return
        await asyncio.sleep(POLL_S)
    raise AssertionError("the venue did not notice the dropped websocket")


async def reconnected(venue: SeiVenue, sessions: int, timeout_s: float = 30.0) -> None:
    """Called while disconnected: `connected` is set again once a new session has replayed the gap."""
    await asyncio.wait_for(venue.subscriber.connected.wait(), timeout_s)
    assert venue.subscriber.sessions >= sessions


def drain(venue: SeiVenue) -> list[VenueEvent]:
    out: list[VenueEvent] = []
    while not venue._queue.empty():
        out.append(venue._queue.get_nowait())
    return out


async def test_gap_fills_are_replayed_exactly_from_the_tx_index(stub: StubNode, venue: SeiVenue) -> None:
    # resting asks of another wallet, for our own crossing order later
    assert (await taker_order(stub, Side.SELL, PRICE + 100, 2, sequence=0)).accepted
    assert (await taker_order(stub, Side.SELL, PRICE + 200, 3, sequence=1)).accepted
    await venue.place([bid("g1", 20)])
    await collect(venue, lambda evs: any(isinstance(e, Ack) for e in evs))

    await drop_websocket(stub, venue)
    await stub.apply_faults({"hold_blocks": True, "reorder": True})
    # two takers hit our bid in ONE block while we are deaf
    assert (await taker_order(stub, Side.SELL, PRICE, 2, sequence=2)).accepted
    assert (await taker_order(stub, Side.SELL, PRICE, 3, sequence=3)).accepted
    await stub.apply_faults({"hold_blocks": False})
    await wait_blocks(1)
    # and our own order crosses the two asks: a partially filled taker order at two better prices
    await venue.place([bid("t1", 8, PRICE + 300)])
    await wait_blocks(1)
    assert not venue.subscriber.connected.is_set(), "everything must happen while the websocket is down"
    await lift_ws_outage(stub)

    events = await collect(venue, lambda evs: filled(evs, "g1") == 5 and filled(evs, "t1") == 5, 30.0)
    await wait_blocks(3)  # any late duplicate has its chance
    events += drain(venue)

    got = [e for e in events if isinstance(e, Fill)]
    assert len({f.fill_id for f in got}) == len(got) == 4
    assert {f.fill_id: (f.price, f.size, f.fee, f.liquidity) for f in got} == chain_fills(stub, venue.address)
    maker = sorted((f.size, f.fee > 0, f.liquidity) for f in got if f.client_id == "g1")
    assert maker == [(2, True, Liquidity.MAKER), (3, True, Liquidity.MAKER)]  # two fills, not one merged
    taker = sorted((f.price, f.size, f.liquidity) for f in got if f.client_id == "t1")
    assert taker == [(PRICE + 100, 2, Liquidity.TAKER), (PRICE + 200, 3, Liquidity.TAKER)]
    assert venue.gaps.replayed_txs >= 2
    assert venue.tracker.stats.state_disagreements == 0


async def test_unexplained_contract_state_alerts_and_invents_no_fill(
    stub: StubNode, venue: SeiVenue, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    await venue.place([bid("g2", 10)])
    await collect(venue, lambda evs: any(isinstance(e, Ack) for e in evs))
    sessions = venue.subscriber.sessions

    await drop_websocket(stub, venue)
    assert (await taker_order(stub, Side.SELL, PRICE, 4, sequence=0)).accepted
    await wait_blocks(2)
    # the node lost its tx index for those heights (state sync, pruning): the fill cannot be replayed
    await stub.apply_faults({"tx_index_from_height": stub.chain.height + 1})
    await lift_ws_outage(stub)
    await reconnected(venue, sessions + 1)
    await wait_blocks(2)

    assert filled(drain(venue), "g2") == 0
    assert venue.tracker.orders["g2"].filled == 0
    assert venue.tracker.stats.state_disagreements >= 1
    assert "ALERT" in caplog.text and "contract filled 4, events 0" in caplog.text


async def test_replay_pages_through_the_gap_in_height_order(stub: StubNode) -> None:
    start = stub.chain.height
    for seq in range(3):
        assert (await taker_order(stub, Side.SELL, PRICE + 100 * seq, 1, sequence=seq)).accepted
        await wait_blocks(1)
    seen: list[TxOutcome] = []

    async def on_tx(outcome: TxOutcome) -> None:
        seen.append(outcome)

    replayer = GapReplayer(stub.chain.contract.address, on_tx, BadInputCounter(logging.getLogger()), 2)
    replayer.note_live_height(start)
    async with aiohttp.ClientSession() as session:
        assert await replayer.replay(SeiRest(f"http://127.0.0.1:{stub.port}", session)) == 3
    heights = [o.height for o in seen]
    assert heights == sorted(heights) and len(set(heights)) == 3
    assert [o.txhash for o in seen] == [r.txhash for r in stub.chain.txs.values()][-3:]
    assert replayer.resume_height >= heights[-1]
