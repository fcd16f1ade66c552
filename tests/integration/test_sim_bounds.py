"""Sim venue and client memory bounds: the per-account event log, finished-order statuses and the client's
queues are capped, and what happens at each cap is defined (resume_gap, drop-oldest, backpressure)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pydantic import SecretStr
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from flashmm_engine.config.sim import SimSettings
from flashmm_engine.types import Ack, CancelAck, CancelRequest, OrderRequest, Side, Trade
from flashmm_engine.venues.sim import client as client_module
from flashmm_engine.venues.sim import final_status
from flashmm_engine.venues.sim import server as server_module
from flashmm_engine.venues.sim.cli import build_venue
from flashmm_engine.venues.sim.client import SimVenueClient
from tests.integration.test_sim_extreme_input import KEY, MARKET, TIMEOUT_S, reply, sim_venue


def test_a_100k_order_run_keeps_the_venue_containers_below_their_caps() -> None:
    engine, _, spec, server = build_venue(SimSettings(api_keys={"alice": SecretStr(KEY)}))
    peak_log = peak_final = peak_live = 0
    for i in range(100_000):
        request = OrderRequest(f"o{i}", spec.symbol, Side.BUY, 1_000 + i % 50, 1)
        server.dispatch(engine.submit("alice", request, i))
        server.dispatch(engine.cancel("alice", CancelRequest(f"o{i}", spec.symbol), i))
        if i % 1000 == 0:
            peak_log = max(peak_log, len(server._logs["alice"]))
            peak_final = max(peak_final, len(engine._final))
            peak_live = max(peak_live, len(engine.open_orders("alice")))
    assert server._seqs["alice"] == 200_000  # ack + cancel ack per order, all numbered
    assert (
        peak_log <= server_module.EVENT_LOG_MAX and len(server._logs["alice"]) == server_module.EVENT_LOG_MAX
    )
    assert peak_final <= final_status.MAX_FINAL_ORDERS and len(engine._final) == final_status.MAX_FINAL_ORDERS
    assert peak_live <= 1
    assert engine.status("alice", "o99999") is not None and engine.status("alice", "o0") is None


async def test_a_client_whose_last_seq_fell_off_the_log_is_told_to_reconcile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(server_module, "EVENT_LOG_MAX", 20)
    async with sim_venue() as (server, url):
        client = SimVenueClient(url, SecretStr(KEY))
        await client.connect()
        try:
            for i in range(15):  # 30 events: ack + cancel ack each
                await client.place([OrderRequest(f"r{i}", MARKET, Side.BUY, 20_000, 1)])
                await client.cancel([CancelRequest(f"r{i}", MARKET)])
            events = client.events()
            async with asyncio.timeout(TIMEOUT_S):
                seen = [await anext(events) for _ in range(30)]
            assert [type(e) for e in seen] == [Ack, CancelAck] * 15 and client.last_seq == 30
        finally:
            await client.close()
        async with connect(url) as ws:  # still in the log: exactly the missed events
            await ws.send(json.dumps({"op": "auth", "key": KEY, "last_seq": 25}))
            replayed = [await reply(ws, ("event", "replayed")) for _ in range(6)]
            assert [m.get("seq") for m in replayed] == [26, 27, 28, 29, 30, 30]
        async with connect(url) as ws:  # fallen off the log: resume_gap, nothing replayed
            await ws.send(json.dumps({"op": "auth", "key": KEY, "last_seq": 3}))
            gap = await reply(ws, ("event", "resume_gap"))
            assert (gap["type"], gap["oldest_kept"], gap["seq"]) == ("resume_gap", 11, 30)
            assert (await reply(ws, ("event", "replayed")))["type"] == "replayed"
        assert server.resume_gaps == 1
        late = SimVenueClient(url, SecretStr(KEY))
        late._last_seq = 3  # as if it had been away since event 3
        await late.connect()
        try:
            assert late.reconcile_needed.is_set() and late.resume_gaps == 1 and late.last_seq == 30
            assert await late.open_orders() == []  # the reconciliation it is told to do works
        finally:
            await late.close()


async def test_client_queues_drop_old_market_data_and_never_private_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cap = 50
    monkeypatch.setattr(client_module, "MARKET_QUEUE_MAX", cap)
    monkeypatch.setattr(client_module, "EVENT_QUEUE_MAX", cap)
    trades, private = cap + 30, 3 * cap
    sent_all = asyncio.Event()

    async def node(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.recv()
        markets = {MARKET: {"tick_size": "0.05", "lot_size": "0.001", "base": "ETH", "quote": "USD"}}
        await ws.send(
            json.dumps({"type": "auth_ok", "account": "alice", "markets": markets, "session": "s1"})
        )
        await ws.send(json.dumps({"type": "replayed", "seq": 0}))
        for i in range(trades):
            trade: dict[str, Any] = {"type": "trade", "market": MARKET, "ts": i, "price": 100, "size": 1}
            await ws.send(json.dumps({**trade, "side": 1, "trade_id": i}))
        for seq in range(1, private + 1):
            ack = {"kind": "ack", "client_id": f"c{seq}", "venue_order_id": f"v{seq}", "ts": seq}
            await ws.send(json.dumps({"type": "event", "seq": seq, "event": ack}))
        sent_all.set()
        await ws.wait_closed()

    async with serve(node, "127.0.0.1", 0) as srv:
        port = next(iter(srv.sockets)).getsockname()[1]
        client = SimVenueClient(f"ws://127.0.0.1:{port}", SecretStr(KEY))
        await client.connect()
        try:
            async with asyncio.timeout(TIMEOUT_S):
                await sent_all.wait()
                events = client.events()
                acks = [await anext(events) for _ in range(private)]
            assert [a.client_id for a in acks if isinstance(a, Ack)] == [
                f"c{i}" for i in range(1, private + 1)
            ]
            assert client.market_dropped == trades - cap and client._market.qsize() == cap
            market = client.market_data()
            first = await anext(market)
            assert isinstance(first, Trade) and first.trade_id == trades - cap  # the oldest were dropped
        finally:
            await client.close()
