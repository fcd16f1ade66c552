"""CometBFT-style /websocket: JSON-RPC subscribe/unsubscribe, Tx event pushes, and injected faults."""

from __future__ import annotations

import base64
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from flashmm_engine.telemetry.bad_input import BadInputCounter
from flashmm_engine.venues.sei.stub.chain import TxRecord

MAX_SUBSCRIPTIONS_PER_CLIENT = 5
_CONDITION = re.compile(r"^\s*([\w.\-]+)\s*=\s*(?:'([^']*)'|(\d+))\s*$")

log = logging.getLogger(__name__)


class QueryError(ValueError):
    pass


def parse_query(query: str) -> list[tuple[str, str]]:
    """`a='x' AND b.c=5` -> [(a, x), (b.c, 5)]; only equality, which is all FlashMM needs."""
    out = []
    for part in re.split(r"\s+AND\s+", query.strip()):
        match = _CONDITION.match(part)
        if match is None:
            raise QueryError(f"failed to parse query: {query!r}")
        out.append((match.group(1), match.group(2) if match.group(2) is not None else match.group(3)))
    return out


def event_index(rec: TxRecord) -> dict[str, list[str]]:
    """The flattened "type.key" -> values map CometBFT publishes beside the event."""
    index: dict[str, list[str]] = {
        "tm.event": ["Tx"],
        "tx.hash": [rec.txhash],
        "tx.height": [str(rec.height)],
    }
    for ev in rec.events:
        for attr in ev["attributes"]:
            index.setdefault(f"{ev['type']}.{attr['key']}", []).append(attr["value"])
    return index


@dataclass(slots=True)
class WsFaults:
    duplicate: bool = False
    reorder: bool = False
    base64_attributes: bool = False
    """CometBFT 0.34 encoded attribute keys and values in base64."""
    refuse_until: float = 0.0
    """monotonic time until which new websocket connections get HTTP 503 (node or proxy down)."""


@dataclass(slots=True)
class _Client:
    ws: web.WebSocketResponse
    subs: dict[str, tuple[Any, list[tuple[str, str]]]] = field(default_factory=dict)


class WsHub:
    def __init__(self, bad_input: BadInputCounter) -> None:
        self._clients: list[_Client] = []
        self.faults = WsFaults()
        self._bad = bad_input

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if time.monotonic() < self.faults.refuse_until:
            return web.Response(status=503, text="websocket temporarily unavailable")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        client = _Client(ws)
        self._clients.append(client)
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_request(client, msg.data)
        finally:
            self._clients.remove(client)
        return ws

    async def _on_request(self, client: _Client, text: str) -> None:
        try:
            req = orjson.loads(text)
            method, req_id, params = req["method"], req.get("id"), req.get("params") or {}
        except (orjson.JSONDecodeError, KeyError, TypeError):
            self._bad.record("ws_request", text)
            await _send(client.ws, {"jsonrpc": "2.0", "id": -1, "error": _error(-32700, "Parse error", "")})
            return
        try:
            if method == "subscribe":
                if len(client.subs) >= MAX_SUBSCRIPTIONS_PER_CLIENT:
                    raise QueryError(f"max_subscriptions_per_client {MAX_SUBSCRIPTIONS_PER_CLIENT} reached")
                query = str(params["query"])
                client.subs[query] = (req_id, parse_query(query))
            elif method == "unsubscribe":
                client.subs.pop(str(params.get("query")), None)
            elif method == "unsubscribe_all":
                client.subs.clear()
            else:
                await _send(
                    client.ws,
                    {"jsonrpc": "2.0", "id": req_id, "error": _error(-32601, "Method not found", method)},
                )
                return
        except (QueryError, KeyError) as exc:
            await _send(
                client.ws,
                {"jsonrpc": "2.0", "id": req_id, "error": _error(-32603, "Internal error", str(exc))},
            )
            return
        await _send(client.ws, {"jsonrpc": "2.0", "id": req_id, "result": {}})

    async def publish(self, records: list[TxRecord]) -> None:
        ordered = list(reversed(records)) if self.faults.reorder else records
        for rec in ordered:
            index = event_index(rec)
            for client in list(self._clients):
                for query, (req_id, conditions) in list(client.subs.items()):
                    if all(value in index.get(key, ()) for key, value in conditions):
                        push = self._push(rec, query, req_id, index)
                        for _ in range(2 if self.faults.duplicate else 1):
                            await _send(client.ws, push)

    def _push(self, rec: TxRecord, query: str, req_id: Any, index: dict[str, list[str]]) -> dict[str, Any]:
        events = [_b64_event(e) for e in rec.events] if self.faults.base64_attributes else rec.events
        result = {
            "data": "",
            "log": rec.raw_log,
            "gas_wanted": str(rec.gas_wanted),
            "gas_used": str(rec.gas_used),
            "events": events,
            "code": rec.code,
            "codespace": rec.codespace,
        }
        tx_result = {
            "height": str(rec.height),
            "index": rec.index,
            "tx": base64.b64encode(rec.tx_bytes).decode(),
            "result": result,
        }
        data = {"type": "tendermint/event/Tx", "value": {"TxResult": tx_result}}
        return {"jsonrpc": "2.0", "id": req_id, "result": {"query": query, "data": data, "events": index}}

    async def drop_all(self) -> int:
        """Close every websocket (the fault a flaky RPC node or load balancer produces)."""
        clients = list(self._clients)
        for client in clients:
            await client.ws.close()
        return len(clients)


def _error(code: int, message: str, data: str) -> dict[str, Any]:
    return {"code": code, "message": message, "data": data}


def _b64_event(event: dict[str, Any]) -> dict[str, Any]:
    def enc(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    attrs = [{"key": enc(a["key"]), "value": enc(a["value"]), "index": True} for a in event["attributes"]]
    return {"type": event["type"], "attributes": attrs}


async def _send(ws: web.WebSocketResponse, payload: dict[str, Any]) -> None:
    if not ws.closed:
        try:
            await ws.send_str(orjson.dumps(payload).decode())
        except ConnectionResetError:
            log.info("websocket client went away during a push")
