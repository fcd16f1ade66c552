"""Fuzzing the sim venue's wire protocol on both sides: the server's request handling (after a real
authentication) and the client's frame decoding. No frame crashes either side; every error reply names
a reason, and every frame the server answers with an error or a reject is counted as bad input."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from flashmm_engine.config.sim import SimSettings
from flashmm_engine.venues.sim.cli import build_venue
from flashmm_engine.venues.sim.client import SimVenueClient
from flashmm_engine.venues.sim.server import Connection
from tests.fuzz.strategies import FUZZ, JSON, NUMBER_STRINGS, objects

KEY = "fuzz-key-0123"
STATE_REJECTS = {
    "unknown_order",
    "duplicate_client_id",
    "post_only_would_cross",
    "insufficient_balance",
    "self_trade",
}
MARKET = "SIM:ETHUSD"
OPS = ["auth", "subscribe", "place", "cancel", "batch", "open_orders", "balances", "positions", "explode"]
ORDER_FIELDS = ["client_id", "market", "side", "price", "size", "tif"]
ORDER_VALUES = st.one_of(
    st.sampled_from([MARKET, "buy", "sell", "gtc", "ioc", "post_only", "2000.00", "0.001"]),
    NUMBER_STRINGS,
    JSON,
)
ORDERS = st.lists(objects(ORDER_FIELDS, ORDER_VALUES), max_size=3)
REQUEST = st.builds(
    lambda op, extra: {"op": op, **extra},
    st.sampled_from(OPS),
    objects(
        ["orders", "cancels", "id", "key", "last_seq", "market"],
        st.one_of(ORDERS, JSON, st.sampled_from([KEY, MARKET])),
    ),
)
FRAME = st.one_of(
    REQUEST.map(lambda m: json.dumps(m).encode()),
    JSON.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
)


class _FakeWs:
    remote_address = ("127.0.0.9", 5555)


def _server() -> tuple[Any, Connection]:
    server = build_venue(SimSettings(api_keys={"alice": SecretStr(KEY)}, port=0))[3]
    conn = Connection(_FakeWs())  # type: ignore[arg-type]
    server._connections.add(conn)
    server._on_message(conn, orjson.dumps({"op": "auth", "key": KEY}))
    assert conn.account == "alice"
    return server, conn


SERVER, CONN = _server()


def _drain(conn: Connection) -> list[dict[str, Any]]:
    out = []
    while not conn.outbox.empty():
        out.append(orjson.loads(conn.outbox.get_nowait()))
    return out


@FUZZ
@given(frame=FRAME)
def test_the_server_answers_any_frame_with_a_reason_and_counts_the_bad_ones(frame: bytes) -> None:
    _drain(CONN)
    before = SERVER.bad_input.total
    SERVER._on_message(CONN, frame)
    replies = _drain(CONN)
    errors = [r for r in replies if r.get("type") == "error"]
    rejects = [r for r in replies if r.get("type") == "event" and r["event"].get("kind") == "reject"]
    # a reject for the book's or the account's state (an unknown order, a crossing post-only) answers a
    # well-formed request: only malformed requests are bad input
    malformed = [r for r in rejects if r["event"].get("reason") not in STATE_REJECTS]
    for reply in errors:
        assert reply.get("reason")
    for reply in rejects:
        assert reply["event"].get("reason")
    if errors or malformed:
        assert SERVER.bad_input.total > before, (frame, replies)
    if CONN.account is None:  # a failed re-authentication: log in again for the next example
        SERVER.auth_limiter.succeeded(CONN.peer)
        SERVER._on_message(CONN, orjson.dumps({"op": "auth", "key": KEY}))


EVENT_FIELDS = [
    "kind",
    "client_id",
    "venue_order_id",
    "fill_id",
    "market",
    "side",
    "price",
    "size",
    "fee",
    "liquidity",
    "ts",
    "remaining",
    "reason",
    "detail",
    "status",
    "filled",
]
CLIENT_MESSAGE = st.builds(
    lambda kind, extra: {"type": kind, **extra},
    st.sampled_from(
        [
            "event",
            "resume_gap",
            "open_orders",
            "balances",
            "positions",
            "auth_ok",
            "snapshot",
            "depth",
            "trade",
            "top",
            "error",
            "replayed",
            "what",
        ]
    ),
    objects(
        [
            "seq",
            "event",
            "id",
            "markets",
            "account",
            "market",
            "bids",
            "asks",
            "changes",
            "ts",
            "price",
            "size",
            "side",
            "trade_id",
            "bid",
            "ask",
        ],
        st.one_of(objects(EVENT_FIELDS), JSON, st.integers(min_value=0, max_value=2**40)),
    ),
)
CLIENT_FRAME = st.one_of(CLIENT_MESSAGE.map(lambda m: json.dumps(m).encode()), st.binary(max_size=40))
LOOP = asyncio.new_event_loop()
CLIENT = SimVenueClient("ws://127.0.0.1:9", SecretStr(KEY))


def _empty_queues(client: SimVenueClient) -> None:
    for queue in (client._events, client._market):
        while not queue.empty():
            queue.get_nowait()


@FUZZ
@given(frame=CLIENT_FRAME)
def test_the_client_decodes_or_counts_any_frame(frame: bytes) -> None:
    _empty_queues(CLIENT)
    before = CLIENT.bad_input.total
    LOOP.run_until_complete(CLIENT._on_frame(frame))
    try:
        message = orjson.loads(frame)
    except orjson.JSONDecodeError:
        assert CLIENT.bad_input.total == before + 1
        return
    if not isinstance(message, dict):
        assert CLIENT.bad_input.total == before + 1
