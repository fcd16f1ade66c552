"""Shared fixtures for the Sei integration tests: an in-process stub node on a real loopback socket,
funded wallets, a connected SeiVenue, and a guard that fails any connection off 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from flashmm_engine.config.sei import SeiSettings
from flashmm_engine.types import Side, VenueEvent
from flashmm_engine.venues.sei.codec import FinCodec
from flashmm_engine.venues.sei.events import tx_hash
from flashmm_engine.venues.sei.rest import SeiRest
from flashmm_engine.venues.sei.sequence import BroadcastResult
from flashmm_engine.venues.sei.signing import TxParams, TxSigner, wallet_from_secret
from flashmm_engine.venues.sei.stub.ante import AnteConfig
from flashmm_engine.venues.sei.stub.server import StubNode, contract_address
from flashmm_engine.venues.sei.units import DenomMarket
from flashmm_engine.venues.sei.venue import SeiVenue

CHAIN_ID = "flashmm-stub-1"
BLOCK_S = 0.1
MAKER_KEY = hashlib.sha256(b"flashmm sei maker test key").hexdigest()
TAKER_KEY = hashlib.sha256(b"flashmm sei taker test key").hexdigest()
TAKER_FEE_PPM = 500
MAKER_FEE_PPM = 200
FUND = {"usei": 10**10, "ueth": 10**10, "uusdc": 10**12}
OUTAGE_GUARD_S = 120.0
"""A websocket outage a test starts lasts until the test lifts it (`lift_ws_outage`); this is only a cap."""
BLOCK_WAIT_S = 30.0
"""A guard only: `wait_blocks` returns as soon as the stub has produced the blocks."""
POLL_S = 0.005
_running: list[StubNode] = []
"""The stub node of the running test, so `wait_blocks` can count its blocks."""


def signer(key_hex: str) -> TxSigner:
    return TxSigner(wallet_from_secret(SecretStr(key_hex), "sei"))


@pytest.fixture
async def stub() -> AsyncIterator[StubNode]:
    settings = SeiSettings()
    contract = contract_address("flashmm-test-fin", "sei")
    cfg = AnteConfig(CHAIN_ID, "sei", "usei", Decimal("0.02"))
    market = DenomMarket.from_settings(settings)
    node = StubNode(cfg, market, contract, BLOCK_S, taker_fee_ppm=TAKER_FEE_PPM, maker_fee_ppm=MAKER_FEE_PPM)
    for key in (MAKER_KEY, TAKER_KEY):
        for denom, amount in FUND.items():
            node.bank.mint(signer(key).address, denom, amount)
    await node.start("127.0.0.1", 0)
    _running.append(node)
    try:
        yield node
    finally:
        _running.remove(node)
        await node.stop()


def venue_settings(node: StubNode, **overrides: Any) -> SeiSettings:
    base = f"127.0.0.1:{node.port}"
    values: dict[str, Any] = {
        "chain_id": CHAIN_ID,
        "rest_url": f"http://{base}",
        "ws_url": f"ws://{base}/websocket",
        "contract_address": node.chain.contract.address,
        "private_key": SecretStr(MAKER_KEY),
        "block_time_s": BLOCK_S,
    }
    values.update(overrides)
    return SeiSettings(**values)


@pytest.fixture
async def venue(stub: StubNode) -> AsyncIterator[SeiVenue]:
    v = SeiVenue(venue_settings(stub))
    await v.connect()
    try:
        yield v
    finally:
        await v.close()


async def collect(
    venue: SeiVenue, done: Callable[[list[VenueEvent]], bool], timeout_s: float = 5.0
) -> list[VenueEvent]:
    """Events from the venue until `done(events)` holds."""
    seen: list[VenueEvent] = []

    async def run() -> None:
        async for ev in venue.events():
            seen.append(ev)
            if done(seen):
                return

    await asyncio.wait_for(run(), timeout_s)
    return seen


async def taker_order(node: StubNode, side: Side, price: int, size: int, sequence: int) -> BroadcastResult:
    """A crossing order from a second wallet, signed and broadcast with the adapter's own codec and REST."""
    settings = SeiSettings()
    codec = FinCodec(DenomMarket.from_settings(settings))
    taker = signer(TAKER_KEY)
    account = node.bank.ensure(taker.address).number
    params = TxParams(CHAIN_ID, account, sequence, 400_000, 8_000, "usei")
    tx_bytes = taker.sign_execute(node.chain.contract.address, [codec.place(side, price, size)], params)
    async with aiohttp.ClientSession() as session:
        result = await SeiRest(f"http://127.0.0.1:{node.port}", session).broadcast_sync(tx_bytes)
    assert result.txhash == tx_hash(tx_bytes)
    return result


async def wait_blocks(n: int) -> None:
    """Wait until the stub has produced `n` more blocks (so a tx broadcast before is executed), however
    slowly the machine runs."""
    node = _running[-1]
    target = node.chain.height + n
    async with asyncio.timeout(BLOCK_WAIT_S):
        while node.chain.height < target:  # noqa: ASYNC110 - the block loop sets no event
            await asyncio.sleep(POLL_S)


async def start_ws_outage(node: StubNode) -> None:
    """Drop every websocket and refuse new ones until `lift_ws_outage`: the outage ends when the test's
    steps are done, not after a wall-clock span they may overrun on a slow machine."""
    await node.apply_faults({"ws_down_s": OUTAGE_GUARD_S, "drop_websockets": True})


async def lift_ws_outage(node: StubNode) -> None:
    await node.apply_faults({"ws_down_s": 0})
