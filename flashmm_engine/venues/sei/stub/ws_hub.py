"""CometBFT-style /websocket: JSON-RPC subscribe/unsubscribe, Tx event pushes, and injected faults."""

from __future__ import annotations

import base64
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from flashmm_engine.telemetry.bad_input import BadInputCounter
from flashmm_engine.venues.sei.stub.chain import TxRecord
from flashmm_engine.venues.sei.stub.query import Condition, QueryError, event_index, matches, parse_query

MAX_SUBSCRIPTIONS_PER_CLIENT = 5
"""CometBFT's default rpc.max_subscriptions_per_client."""
# CometBFT libs/pubsub error texts, returned as JSON-RPC -32603 "Internal error" with the text as data
ALREADY_SUBSCRIBED = "already subscribed"
SUBSCRIPTION_NOT_FOUND = "subscription not found"

log = logging.getLogger(__name__)


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: str) -> None:
        super().__init__(data)
        self.payload = _error(code, message, data)


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
    subs: dict[str, tuple[Any, list[Condition]]] = field(default_factory=dict)


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
                # CometBFT reads every frame with NextReader, whatever its type: accept binary JSON too
                if msg.type is WSMsgType.TEXT:
                    await self._on_request(client, msg.data)
                elif msg.type is WSMsgType.BINARY:
                    await self._on_request(client, msg.data.decode(errors="replace"))
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
            self._dispatch(client, str(method), req_id, params)
        except RpcError as exc:
            await _send(client.ws, {"jsonrpc": "2.0", "id": req_id, "error": exc.payload})
            return
        await _send(client.ws, {"jsonrpc": "2.0", "id": req_id, "result": {}})

    def _dispatch(self, client: _Client, method: str, req_id: Any, params: Any) -> None:
        """Apply subscribe/unsubscribe/unsubscribe_all in CometBFT's order of checks (rpc/core/events.go)."""
        if method == "unsubscribe_all":
            if not client.subs:
                raise RpcError(-32603, "Internal error", SUBSCRIPTION_NOT_FOUND)
            client.subs.clear()
            return
        if method not in ("subscribe", "unsubscribe"):
            raise RpcError(-32601, "Method not found", method)
        # JSON-RPC params by name or by position, as CometBFT accepts both
        query = params.get("query") if isinstance(params, dict) else None
        if isinstance(params, list) and params:
            query = params[0]
        if not isinstance(query, str):
            raise RpcError(-32602, "Invalid params", "missing string param 'query'")
        if method == "subscribe" and len(client.subs) >= MAX_SUBSCRIPTIONS_PER_CLIENT:
            limit = f"max_subscriptions_per_client {MAX_SUBSCRIPTIONS_PER_CLIENT} reached"
            raise RpcError(-32603, "Internal error", limit)
        try:
            conditions = parse_query(query)
        except QueryError as exc:
            raise RpcError(-32603, "Internal error", str(exc)) from None
        if method == "unsubscribe":
            if client.subs.pop(query, None) is None:
                raise RpcError(-32603, "Internal error", SUBSCRIPTION_NOT_FOUND)
        elif query in client.subs:
            raise RpcError(-32603, "Internal error", ALREADY_SUBSCRIBED)
        else:
            client.subs[query] = (req_id, conditions)

    async def publish(self, records: list[TxRecord]) -> None:
        ordered = list(reversed(records)) if self.faults.reorder else records
        for rec in ordered:
            index = event_index(rec)
            for client in list(self._clients):
                for query, (req_id, conditions) in list(client.subs.items()):
                    if matches(conditions, index):
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
