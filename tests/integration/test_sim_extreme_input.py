"""Extreme numbers and malformed frames against the sim venue (the real server, in-process, on loopback)
and the sim client (against a loopback server that speaks the wire protocol): both stay up, count every
rejection, and answer the next valid request correctly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

from flashmm_engine.config.sim import SimSettings
from flashmm_engine.types import Ack, OrderRequest, Side
from flashmm_engine.venues.sim.cli import build_venue
from flashmm_engine.venues.sim.client import SimVenueClient
from flashmm_engine.venues.sim.server import SimVenueServer

KEY = "extreme-input-key"
MARKET = "SIM:ETHUSD"
TIMEOUT_S = 10.0
EXAMPLES = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

EXTREME = ["1e20", "-0", "NaN", "Infinity", "-Infinity", "4" * 40, "-" + "9" * 40, "1e400", "1e-30"]
WRONG_TYPES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.lists(st.integers(), max_size=2)
)
# every value below is invalid whatever the other field holds (tick 0.05, lot 0.001)
BAD_PRICE = st.one_of(
    st.sampled_from([*EXTREME, "-1", "0", "2500.01"]),
    st.integers(min_value=10**9).map(str),  # beyond 2**31 ticks
    st.integers(max_value=0).map(str),
    WRONG_TYPES,
)
BAD_SIZE = st.one_of(
    st.sampled_from([*EXTREME, "-1", "-0.001", "0", "0.0001"]),
    st.integers(min_value=10**7).map(str),  # beyond 2**31 lots
    st.integers(max_value=0).map(str),
    WRONG_TYPES,
)
GOOD_PRICE, GOOD_SIZE = st.just("2000.00"), st.just("0.001")
BAD_ORDER = st.one_of(
    st.fixed_dictionaries({"price": BAD_PRICE, "size": st.one_of(GOOD_SIZE, BAD_SIZE)}),
    st.fixed_dictionaries({"price": GOOD_PRICE, "size": BAD_SIZE}),
)
BAD_FRAME = st.one_of(
    st.binary(max_size=40).filter(lambda b: _not_json(b)),
    st.sampled_from(["[1, 2]", "5", '"op"', "null", '{"op": 5}', '{"op": "explode"}', '{"op": "auth"}']),
    st.sampled_from(['{"op": "place", "orders": 7}', '{"op": "open_orders", "market": 1e20}']),
)


def _not_json(raw: bytes) -> bool:
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError:
        return True
    return False


@asynccontextmanager
async def sim_venue() -> AsyncIterator[tuple[SimVenueServer, str]]:
    sim = SimSettings(api_keys={"alice": SecretStr(KEY)}, port=0)
    server = build_venue(sim)[3]
    stop, ready = asyncio.Event(), asyncio.get_running_loop().create_future()
    task = asyncio.create_task(server.run(stop, ready.set_result))
    port = await asyncio.wait_for(ready, TIMEOUT_S)
    try:
        yield server, f"ws://127.0.0.1:{port}"
    finally:
        stop.set()
        await asyncio.wait_for(task, TIMEOUT_S)


async def reply(ws: ClientConnection, kinds: tuple[str, ...]) -> dict[str, Any]:
    """The next message of one of `kinds` (market data in between is skipped)."""
    async with asyncio.timeout(TIMEOUT_S):
        while True:
            msg = json.loads(await ws.recv())
            if msg.get("type") in kinds:
                return dict(msg)


async def venue_case(orders: list[dict[str, Any]], frames: list[bytes | str]) -> None:
    async with sim_venue() as (server, url), connect(url) as ws:
        await ws.send(json.dumps({"op": "auth", "key": KEY}))
        await reply(ws, ("replayed",))
        before = server.bad_input.total
        for i, fields in enumerate(orders):
            order = {"client_id": f"bad-{i}", "market": MARKET, "side": "buy", **fields}
            await ws.send(json.dumps({"op": "place", "orders": [order]}))
            answer = await reply(ws, ("event", "error"))
            if answer["type"] == "error":  # a non-finite number is not JSON: the frame itself is refused
                assert answer["reason"] == "malformed", (fields, answer)
                continue
            event = answer["event"]
            assert event["kind"] == "reject" and event["client_id"] == f"bad-{i}", (fields, event)
        for frame in frames:
            await ws.send(frame)
            assert (await reply(ws, ("error",)))["reason"] == "malformed", frame
        assert server.bad_input.total - before == len(orders) + len(frames)
        # still up, and the next valid request is answered correctly
        good = {"client_id": "good", "market": MARKET, "side": "buy", "price": "2000.00", "size": "0.002"}
        await ws.send(json.dumps({"op": "place", "orders": [good]}))
        assert (await reply(ws, ("event",)))["event"]["kind"] == "ack"
        await ws.send(json.dumps({"op": "open_orders", "id": 9}))
        (row,) = (await reply(ws, ("open_orders",)))["orders"]
        assert (row["client_id"], row["price"], row["size"]) == ("good", 40_000, 2)


@EXAMPLES
@given(orders=st.lists(BAD_ORDER, min_size=1, max_size=6), frames=st.lists(BAD_FRAME, max_size=4))
def test_the_sim_venue_rejects_extreme_numbers_and_bad_frames_and_stays_up(
    orders: list[dict[str, Any]], frames: list[bytes | str]
) -> None:
    asyncio.run(venue_case(orders, frames))


# --- the client ---

GOOD_EVENT = {"kind": "ack", "client_id": "c1", "venue_order_id": "v1", "ts": 5}
EXTREME_VALUES = st.one_of(
    st.sampled_from([2**64, -(2**70), 1e20, -0.0, float("nan"), float("inf"), "1e20", "4" * 40, None, True]),
    st.lists(st.integers(), max_size=2),
)


def corrupt(message: dict[str, Any], field: str) -> st.SearchStrategy[dict[str, Any]]:
    return EXTREME_VALUES.map(lambda v: {**message, field: v})


def _fill(**over: Any) -> dict[str, Any]:
    base = {"kind": "fill", "fill_id": "f", "client_id": "c", "venue_order_id": "v", "market": MARKET}
    return {
        **base,
        "side": "buy",
        "price": 1,
        "size": 1,
        "fee": 0,
        "liquidity": "maker",
        "ts": 1,
        "remaining": 0,
        **over,
    }


BAD_CLIENT_FRAME = st.one_of(
    st.binary(max_size=40).filter(_not_json).map(bytes.hex).map(lambda h: "{" + h),
    st.sampled_from(["[1]", "3", "null", json.dumps({"type": "nonsense"}), json.dumps({"no": "type"})]),
    st.sampled_from(["price", "size", "remaining", "ts", "fee"]).flatmap(
        lambda f: corrupt(_fill(), f).map(lambda e: {"type": "event", "seq": 1, "event": e})
    ),
    corrupt({"type": "event", "event": GOOD_EVENT}, "seq").filter(lambda m: not isinstance(m["seq"], int)),
    st.sampled_from(["price", "size", "ts", "trade_id", "side"]).flatmap(
        lambda f: corrupt(
            {"type": "trade", "market": MARKET, "ts": 1, "price": 1, "size": 1, "side": 1, "trade_id": 1}, f
        )
    ),
    EXTREME_VALUES.map(
        lambda v: {"type": "top", "market": MARKET, "ts": 1, "seq": 1, "bid": [v, 1], "ask": [2, 1]}
    ),
    EXTREME_VALUES.map(
        lambda v: {"type": "depth", "market": MARKET, "ts": 1, "seq": 1, "changes": [[1, 5, v]]}
    ),
)


def _encode(frame: Any) -> str:
    return frame if isinstance(frame, str) else json.dumps(frame, allow_nan=True)


async def client_case(frames: list[Any]) -> None:
    async def node(ws: ServerConnection) -> None:
        await ws.recv()  # auth
        await ws.recv()  # subscribe
        markets = {MARKET: {"tick_size": "0.05", "lot_size": "0.001", "base": "ETH", "quote": "USD"}}
        await ws.send(
            json.dumps({"type": "auth_ok", "account": "alice", "markets": markets, "session": "s1"})
        )
        await ws.send(json.dumps({"type": "replayed", "seq": 0}))
        for frame in frames:
            await ws.send(_encode(frame))
        await ws.send(json.dumps({"type": "event", "seq": 1, "event": GOOD_EVENT}))
        async for raw in ws:
            request = json.loads(raw)
            if request.get("op") == "open_orders":
                row = {"client_id": "c1", "venue_order_id": "v1", "market": MARKET, "side": "sell"}
                row |= {"price": 50_000, "size": 3, "filled": 1, "status": "partially_filled"}
                await ws.send(json.dumps({"type": "open_orders", "id": request["id"], "orders": [row]}))

    async with serve(node, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        client = SimVenueClient(f"ws://127.0.0.1:{port}", SecretStr(KEY))
        await client.connect()
        try:
            event = await asyncio.wait_for(anext(client.events()), TIMEOUT_S)
            assert event == Ack("c1", "v1", 5) and client.last_seq == 1
            (row,) = await client.open_orders()
            assert (row.client_id, row.side, row.price, row.size, row.filled) == (
                "c1",
                Side.SELL,
                50_000,
                3,
                1,
            )
            assert client.bad_input.total == len(frames) and client.reconnects == 0
            order = OrderRequest("c2", MARKET, Side.BUY, 40_000, 1)
            await client.place([order])  # the connection is still usable for order entry
        finally:
            await client.close()


@EXAMPLES
@given(frames=st.lists(BAD_CLIENT_FRAME, min_size=1, max_size=8))
def test_the_sim_client_skips_and_counts_bad_frames_and_keeps_delivering(frames: list[Any]) -> None:
    asyncio.run(client_case(frames))
