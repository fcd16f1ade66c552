"""The stub node's HTTP server: Cosmos REST routes and the CometBFT websocket on one loopback port."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import time
from decimal import Decimal
from typing import Any

import bech32
import orjson
from aiohttp import web

from flashmm_engine.service.tasks import TaskTracker
from flashmm_engine.telemetry.bad_input import BadInputCounter
from flashmm_engine.venues.sei.stub import tx_search
from flashmm_engine.venues.sei.stub.ante import AnteConfig, TxRejected
from flashmm_engine.venues.sei.stub.bank import Bank
from flashmm_engine.venues.sei.stub.chain import StubChain
from flashmm_engine.venues.sei.stub.contract import ContractError, FinContract
from flashmm_engine.venues.sei.stub.fault_spec import FaultSpecError, check_fault_spec
from flashmm_engine.venues.sei.stub.ws_hub import WsHub
from flashmm_engine.venues.sei.units import DenomMarket

log = logging.getLogger(__name__)
GRPC_NOT_FOUND = 5
GRPC_INVALID_ARGUMENT = 3
GRPC_UNKNOWN = 2


def contract_address(label: str, prefix: str) -> str:
    """A deterministic 32-byte contract address, like wasmd's instantiate2 addresses."""
    data = hashlib.sha256(label.encode()).digest()
    words = bech32.convertbits(data, 8, 5)
    if words is None:
        raise ValueError("cannot convert address bytes to bech32 words")
    return str(bech32.bech32_encode(prefix, words))


def _grpc_error(status: int, code: int, message: str) -> web.Response:
    return _json({"code": code, "message": message, "details": []}, status)


def _json(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


class StubNode:
    def __init__(
        self,
        cfg: AnteConfig,
        market: DenomMarket,
        contract: str,
        block_time_s: float,
        taker_fee_ppm: int = 0,
        maker_fee_ppm: int = 0,
    ) -> None:
        self.bad_input = BadInputCounter(log)
        self.bank = Bank()
        fin = FinContract(contract, market, self.bank, taker_fee_ppm, maker_fee_ppm)
        self.chain = StubChain(cfg, self.bank, fin)
        self.hold_blocks = False
        """While set, no block is produced: CheckTx'd txs wait in the mempool (lets tests order a block)."""
        self.hub = WsHub(self.bad_input)
        self.block_time_s = block_time_s
        self._tasks = TaskTracker("sei-stub")
        self._runner: web.AppRunner | None = None
        self.port = 0

    def app(self) -> web.Application:
        app = web.Application()
        r = app.router
        r.add_get("/cosmos/auth/v1beta1/accounts/{address}", self._account)
        r.add_get("/cosmos/bank/v1beta1/balances/{address}", self._balances)
        r.add_post("/cosmos/tx/v1beta1/simulate", self._simulate)
        r.add_post("/cosmos/tx/v1beta1/txs", self._broadcast)
        r.add_get("/cosmos/tx/v1beta1/txs/{hash}", self._get_tx)
        r.add_get("/cosmos/tx/v1beta1/txs", self._search_txs)
        r.add_get("/cosmos/base/tendermint/v1beta1/blocks/latest", self._latest_block)
        r.add_get("/cosmwasm/wasm/v1/contract/{address}/smart/{query}", self._smart)
        r.add_get("/websocket", self.hub.handle)
        r.add_post("/stub/faults", self._faults)
        r.add_get("/stub/status", self._status)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        # no access log: aiohttp's default line carries request headers
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self._tasks.spawn(self._block_loop(), "blocks")
        return self.port

    async def stop(self) -> None:
        await self._tasks.shutdown()
        await self.hub.drop_all()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _block_loop(self) -> None:
        while True:
            await asyncio.sleep(self.block_time_s)
            if self.hold_blocks:
                continue
            records = self.chain.produce_block()
            await self.hub.publish(records)

    # --- REST ---

    async def _account(self, request: web.Request) -> web.Response:
        address = request.match_info["address"]
        acc = self.bank.account(address)
        if acc is None:
            return _grpc_error(404, GRPC_NOT_FOUND, f"account {address} not found: key not found")
        pub = None
        if acc.pubkey is not None:
            pub = {"@type": "/cosmos.crypto.secp256k1.PubKey", "key": base64.b64encode(acc.pubkey).decode()}
        return _json(
            {
                "account": {
                    "@type": "/cosmos.auth.v1beta1.BaseAccount",
                    "address": address,
                    "pub_key": pub,
                    "account_number": str(acc.number),
                    "sequence": str(acc.committed_sequence),
                }
            }
        )

    async def _balances(self, request: web.Request) -> web.Response:
        acc = self.bank.account(request.match_info["address"])
        coins = sorted((acc.balances if acc else {}).items())
        balances = [{"denom": d, "amount": str(a)} for d, a in coins if a > 0]
        return _json({"balances": balances, "pagination": {"next_key": None, "total": str(len(balances))}})

    async def _tx_bytes(self, request: web.Request) -> bytes | web.Response:
        try:
            body = orjson.loads(await request.read())
            return base64.b64decode(body["tx_bytes"], validate=True)
        except (orjson.JSONDecodeError, KeyError, TypeError, binascii.Error) as exc:
            self.bad_input.record("rest_tx_bytes", repr(exc))
            return _grpc_error(400, GRPC_INVALID_ARGUMENT, f"invalid request: {exc!r}")

    async def _simulate(self, request: web.Request) -> web.Response:
        tx_bytes = await self._tx_bytes(request)
        if isinstance(tx_bytes, web.Response):
            return tx_bytes
        try:
            gas = self.chain.simulate(tx_bytes)
        except TxRejected as exc:
            return _grpc_error(500, GRPC_UNKNOWN, exc.raw_log)
        return _json(
            {
                "gas_info": {"gas_wanted": "0", "gas_used": str(gas)},
                "result": {"data": "", "log": "", "events": []},
            }
        )

    async def _broadcast(self, request: web.Request) -> web.Response:
        tx_bytes = await self._tx_bytes(request)
        if isinstance(tx_bytes, web.Response):
            return tx_bytes
        return _json({"tx_response": self.chain.check_tx(tx_bytes)})

    async def _get_tx(self, request: web.Request) -> web.Response:
        txhash = request.match_info["hash"].upper()
        rec = self.chain.txs.get(txhash)
        if rec is None or rec.height < self.chain.index_from_height:
            return _grpc_error(404, GRPC_NOT_FOUND, f"tx not found: {txhash}")
        return _json({"tx": None, "tx_response": rec.tx_response()})

    async def _search_txs(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            req = tx_search.parse_request(q, list(q.getall("events", [])))
            return _json(tx_search.search(self.chain, req))
        except tx_search.SearchError as exc:
            if exc.status == 400:
                self.bad_input.record("tx_search", str(exc))
            return _grpc_error(exc.status, exc.grpc_code, str(exc))

    async def _latest_block(self, request: web.Request) -> web.Response:
        return _json(tx_search.latest_block(self.chain))

    async def _smart(self, request: web.Request) -> web.Response:
        contract = self.chain.contract
        if request.match_info["address"] != contract.address:
            return _grpc_error(404, GRPC_NOT_FOUND, "no such contract: not found")
        try:
            query = orjson.loads(base64.b64decode(request.match_info["query"], validate=True))
            return _json({"data": contract.query(query)})
        except (orjson.JSONDecodeError, binascii.Error, AttributeError, TypeError, ValueError) as exc:
            self.bad_input.record("smart_query", repr(exc))
            return _grpc_error(400, GRPC_INVALID_ARGUMENT, f"invalid query: {exc!r}")
        except ContractError as exc:
            return _grpc_error(400, GRPC_UNKNOWN, f"{exc.reason}: query wasm contract failed")

    # --- stub-only control ---

    async def _faults(self, request: web.Request) -> web.Response:
        try:
            spec = check_fault_spec(orjson.loads(await request.read()))
            return _json(await self.apply_faults(spec))
        except FaultSpecError as exc:
            self.bad_input.record("fault_spec", str(exc))
            return _grpc_error(400, GRPC_INVALID_ARGUMENT, f"invalid fault spec: {exc}")
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, ArithmeticError) as exc:
            self.bad_input.record("fault_spec", repr(exc))
            return _grpc_error(400, GRPC_INVALID_ARGUMENT, f"invalid fault spec: {exc!r}")

    async def apply_faults(self, spec: dict[str, Any]) -> dict[str, Any]:
        """bump_sequence {address, by}; min_gas_price; ws_down_s; drop_websockets; duplicate/reorder/base64
        event delivery; hold_blocks; tx_index_from_height; fund {address, denom, amount}."""
        check_fault_spec(spec)
        out: dict[str, Any] = {}
        if bump := spec.get("bump_sequence"):
            acc = self.bank.ensure(str(bump["address"]))
            acc.sequence += int(bump.get("by", 1))
            acc.committed_sequence = acc.sequence
            out["sequence"] = acc.sequence
        if "min_gas_price" in spec:
            self.chain.cfg.min_gas_price = Decimal(str(spec["min_gas_price"]))
        if "ws_down_s" in spec:
            self.hub.faults.refuse_until = time.monotonic() + float(spec["ws_down_s"])
        if spec.get("drop_websockets"):
            out["dropped"] = await self.hub.drop_all()
        if "tx_index_from_height" in spec:
            self.chain.index_from_height = int(spec["tx_index_from_height"])
        if "hold_blocks" in spec:
            self.hold_blocks = bool(spec["hold_blocks"])
        for name in ("duplicate", "reorder", "base64_attributes"):
            if name in spec:
                setattr(self.hub.faults, name, bool(spec[name]))
        if fund := spec.get("fund"):
            self.bank.mint(str(fund["address"]), str(fund["denom"]), int(fund["amount"]))
        return out

    async def _status(self, request: web.Request) -> web.Response:
        return _json(
            {
                "height": self.chain.height,
                "mempool": len(self.chain.mempool),
                "txs": len(self.chain.txs),
                "bad_input": self.bad_input.total,
            }
        )
