"""The stub's CometBFT /websocket enforces subscriptions the way CometBFT does: at most 5 per client
(rpc.max_subscriptions_per_client), one per query, `unsubscribe`/`unsubscribe_all` with pubsub's errors,
all as JSON-RPC -32603 "Internal error" with the reason in `data`; pushes reuse the subscribe id."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import websockets

from flashmm_engine.types import Side
from flashmm_engine.venues.sei.stub.server import StubNode
from tests.integration.sei_support import taker_order, wait_blocks

REPLY_TIMEOUT_S = 2.0


def internal_error(req_id: int, reason: str) -> dict[str, Any]:
    error = {"code": -32603, "message": "Internal error", "data": reason}
    return {"jsonrpc": "2.0", "id": req_id, "error": error}


def ok(req_id: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": req_id, "result": {}}


async def call(ws: Any, req_id: int, method: str, query: str | None = None) -> dict[str, Any]:
    params = {"query": query} if query is not None else {}
    request = {"jsonrpc": "2.0", "method": method, "id": req_id, "params": params}
    await ws.send(orjson.dumps(request).decode())
    reply: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.recv(), REPLY_TIMEOUT_S))
    return reply


async def test_subscription_limit_duplicates_and_unsubscribe(stub: StubNode) -> None:
    queries = [f"tm.event='Tx' AND tx.height={n}" for n in range(6)]
    async with websockets.connect(f"ws://127.0.0.1:{stub.port}/websocket") as ws:
        for n in range(5):
            assert await call(ws, n, "subscribe", queries[n]) == ok(n)
        limit = "max_subscriptions_per_client 5 reached"
        assert await call(ws, 5, "subscribe", queries[5]) == internal_error(5, limit)
        assert await call(ws, 6, "unsubscribe", queries[0]) == ok(6)
        assert await call(ws, 7, "unsubscribe", queries[0]) == internal_error(7, "subscription not found")
        assert await call(ws, 8, "subscribe", queries[1]) == internal_error(8, "already subscribed")
        assert await call(ws, 9, "subscribe", queries[5]) == ok(9)
        assert (await call(ws, 10, "subscribe", "tm.event EXISTS"))["error"]["code"] == -32603
        assert await call(ws, 11, "unsubscribe_all") == ok(11)
        assert await call(ws, 12, "unsubscribe_all") == internal_error(12, "subscription not found")
        assert await call(ws, 13, "subscribe", queries[0]) == ok(13)  # room again after unsubscribe_all
        positional = {"jsonrpc": "2.0", "method": "unsubscribe", "id": 14, "params": [queries[0]]}
        await ws.send(orjson.dumps(positional).decode())
        assert orjson.loads(await asyncio.wait_for(ws.recv(), REPLY_TIMEOUT_S)) == ok(14)
        bad_params = {"jsonrpc": "2.0", "method": "subscribe", "id": 15, "params": 7}
        await ws.send(orjson.dumps(bad_params).decode())
        reply = orjson.loads(await asyncio.wait_for(ws.recv(), REPLY_TIMEOUT_S))
        assert reply["error"]["code"] == -32602  # refused, and the connection stays usable
        assert await call(ws, 16, "subscribe", queries[1]) == ok(16)


async def test_no_push_after_unsubscribe_and_pushes_reuse_the_subscribe_id(stub: StubNode) -> None:
    contract = f"tm.event='Tx' AND wasm._contract_address='{stub.chain.contract.address}'"
    every_tx = "tm.event='Tx'"
    async with websockets.connect(f"ws://127.0.0.1:{stub.port}/websocket") as ws:
        assert await call(ws, 21, "subscribe", contract) == ok(21)
        assert await call(ws, 22, "subscribe", every_tx) == ok(22)
        assert await call(ws, 23, "unsubscribe", contract) == ok(23)
        assert (await taker_order(stub, Side.SELL, 250_000, 1, sequence=0)).accepted
        push = orjson.loads(await asyncio.wait_for(ws.recv(), REPLY_TIMEOUT_S))
        assert push["id"] == 22 and push["result"]["query"] == every_tx
        assert push["result"]["data"]["type"] == "tendermint/event/Tx"
        await wait_blocks(3)
        try:
            extra = await asyncio.wait_for(ws.recv(), 0.05)
        except TimeoutError:
            extra = None
        assert extra is None, f"a push for the unsubscribed query arrived: {extra!r}"
