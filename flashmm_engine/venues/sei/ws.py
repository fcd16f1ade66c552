"""CometBFT websocket subscriber: subscribe, hand each Tx event on, reconnect with jittered backoff.

After every subscription is acknowledged, and before its first event is read, `on_subscribed` runs so the
venue can replay what the gap before it hid; events pushed meanwhile wait in the socket buffer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import websockets

from flashmm_engine.service.backoff import Backoff
from flashmm_engine.telemetry.bad_input import BadInputCounter
from flashmm_engine.venues.sei.events import EventFormatError, TxOutcome, outcome_from_ws

CONNECT_TIMEOUT_S = 5.0
SUBSCRIBE_ACK_TIMEOUT_S = 5.0
SUBSCRIPTION_ID = 1

log = logging.getLogger(__name__)


class SubscribeError(RuntimeError):
    pass


class RecoveryFailed(RuntimeError):
    """on_subscribed could not recover the gap: drop the session and try again after a backoff."""


def contract_query(contract: str) -> str:
    return f"tm.event='Tx' AND wasm._contract_address='{contract}'"


class TxSubscriber:
    def __init__(
        self,
        url: str,
        query: str,
        on_tx: Callable[[TxOutcome], Awaitable[None]],
        on_subscribed: Callable[[], Awaitable[None]],
        bad_input: BadInputCounter,
        backoff: Backoff | None = None,
    ) -> None:
        self._url = url
        self._query = query
        self._on_tx = on_tx
        self._on_subscribed = on_subscribed
        self._bad = bad_input
        self._backoff = backoff or Backoff()
        self.connected = asyncio.Event()
        self.sessions = 0
        self.disconnects = 0

    async def run(self) -> None:
        while True:
            try:
                await self._session()
            except (
                OSError,
                websockets.WebSocketException,
                TimeoutError,
                SubscribeError,
                RecoveryFailed,
            ) as exc:
                log.warning("websocket %s: %s", self._url, exc)
            self.connected.clear()
            self.disconnects += 1
            await asyncio.sleep(self._backoff.next_delay())

    async def _session(self) -> None:
        async with websockets.connect(self._url, open_timeout=CONNECT_TIMEOUT_S, max_size=None) as ws:
            request = {
                "jsonrpc": "2.0",
                "method": "subscribe",
                "id": SUBSCRIPTION_ID,
                "params": {"query": self._query},
            }
            await ws.send(orjson.dumps(request).decode())
            await asyncio.wait_for(self._await_ack(ws), SUBSCRIBE_ACK_TIMEOUT_S)
            self.sessions += 1
            await self._on_subscribed()
            self._backoff.reset()
            self.connected.set()
            async for raw in ws:
                await self._on_message(raw)

    async def _await_ack(self, ws: Any) -> None:
        async for raw in ws:
            msg = self._decode(raw)
            if msg is None or msg.get("id") != SUBSCRIPTION_ID:
                continue
            if "error" in msg:
                raise SubscribeError(f"subscribe refused: {msg['error']}")
            if msg.get("result") == {}:
                return
        raise SubscribeError("connection closed before the subscription was acknowledged")

    async def _on_message(self, raw: str | bytes) -> None:
        msg = self._decode(raw)
        if msg is None:
            return
        result = msg.get("result")
        if not isinstance(result, dict) or "data" not in result:
            return  # acks and keep-alives
        try:
            outcome = outcome_from_ws(msg)
        except EventFormatError as exc:
            self._bad.record("ws_tx_event", str(exc))
            return
        try:
            await self._on_tx(outcome)
        except (ValueError, ArithmeticError) as exc:  # a bad event must not end the subscription
            self._bad.record("ws_tx_handler", f"tx {outcome.txhash}: {exc!r}")

    def _decode(self, raw: str | bytes) -> dict[str, Any] | None:
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self._bad.record("ws_json", str(raw)[:200])
            return None
        if not isinstance(msg, dict):
            self._bad.record("ws_shape", str(raw)[:200])
            return None
        return msg
