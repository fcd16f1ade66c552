"""The Sei websocket subscriber over a real loopback socket survives bad events and bad handling, and the
first event's fill of a tx whose second event is undecodable is emitted exactly once, replay included."""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

import orjson
import websockets

from flashmm_engine.service.backoff import Backoff
from flashmm_engine.telemetry.bad_input import BadInputCounter
from flashmm_engine.types import Fill, VenueEvent
from flashmm_engine.venues.sei.events import TxOutcome, tx_hash
from flashmm_engine.venues.sei.ws import TxSubscriber
from tests.unit.sei.test_orders import event, tracker


def raw_event(action: str, size: int, remaining: int, event_index: int, **overrides: str) -> dict[str, Any]:
    attrs = {
        **event(action, 0, size, remaining, event_index=event_index).attrs,
        "msg_index": "0",
        **overrides,
    }
    return {"type": f"wasm-{action}", "attributes": [{"key": k, "value": v} for k, v in attrs.items()]}


def push(tx_bytes: bytes, events: list[dict[str, Any]]) -> bytes:
    result = {"code": 0, "log": "", "events": events}
    tx_result = {"tx": base64.b64encode(tx_bytes).decode(), "height": "7", "result": result}
    return orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": {"data": {"value": {"TxResult": tx_result}}}})


async def test_a_bad_event_is_quarantined_once_and_the_subscriber_keeps_running() -> None:
    t = tracker()
    t.on_accepted(tx_hash(b"tx-submit"), t.txs.unresolved()[0][1].items, 0)  # q1's place, as broadcast
    submit = push(b"tx-submit", [raw_event("submit_order", 10, 10, 0)])
    bad = push(b"tx-bad", [raw_event("fill", 2, 8, 0), raw_event("fill", 1, 7, 1, price="1e400x")])
    boom = push(b"tx-boom", [])
    last = push(b"tx-last", [raw_event("fill", 3, 5, 0)])
    frames = [submit, bad, bad, b"{not json", boom, last]

    async def node(ws: Any) -> None:
        await ws.recv()  # subscribe
        await ws.send(orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": {}}))
        for frame in frames:
            await ws.send(frame)
        await ws.wait_closed()

    seen: list[VenueEvent] = []
    done = asyncio.Event()

    async def on_tx(outcome: TxOutcome) -> None:
        if outcome.txhash == tx_hash(b"tx-boom"):
            raise ValueError("a handler bug on one tx")
        seen.extend(t.on_tx(outcome, 1))
        if outcome.txhash == tx_hash(b"tx-last"):
            done.set()

    async def nothing() -> None:
        return None

    bad_input = BadInputCounter(logging.getLogger("test"))
    async with websockets.serve(node, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        sub = TxSubscriber(f"ws://127.0.0.1:{port}/websocket", "q", on_tx, nothing, bad_input, Backoff())
        task = asyncio.create_task(sub.run())
        try:
            await asyncio.wait_for(done.wait(), 10)
            assert not task.done() and sub.sessions == 1 and sub.disconnects == 0
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    fill_ids = [e.fill_id for e in seen if isinstance(e, Fill)]
    bad_hash = tx_hash(b"tx-bad")
    assert fill_ids == [f"{bad_hash}:0:0", f"{tx_hash(b'tx-last')}:0:0"]
    assert t.quarantine.count == 1
    assert bad_input.counts["ws_json"] == 1 and bad_input.counts["ws_tx_handler"] == 1
    assert t.orders["q1"].filled == 5
