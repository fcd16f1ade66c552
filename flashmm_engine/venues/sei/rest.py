"""Cosmos SDK REST (LCD) client over aiohttp: account, simulate, sync broadcast, tx lookup, smart queries."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import aiohttp
import orjson

from flashmm_engine.venues.base import VenueError
from flashmm_engine.venues.sei.sequence import AccountInfo, BroadcastResult

REQUEST_TIMEOUT_S = 5.0


class RestError(VenueError):
    """The node answered with an error status; `message` is the node's own text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message[:300]}")
        self.status = status
        self.message = message


class SeiRest:
    def __init__(self, base_url: str, session: aiohttp.ClientSession) -> None:
        self._base = base_url.rstrip("/")
        self._session = session

    async def account(self, address: str) -> AccountInfo:
        body = await self._get(f"/cosmos/auth/v1beta1/accounts/{address}")
        acc = body["account"]
        return AccountInfo(int(acc["account_number"]), int(acc["sequence"]))

    async def balances(self, address: str) -> dict[str, int]:
        body = await self._get(f"/cosmos/bank/v1beta1/balances/{address}")
        return {b["denom"]: int(b["amount"]) for b in body["balances"]}

    async def simulate(self, tx_bytes: bytes) -> int:
        """Gas used by the tx; raises RestError carrying the node's raw log when simulation fails."""
        body = await self._post("/cosmos/tx/v1beta1/simulate", {"tx_bytes": _b64(tx_bytes)})
        return int(body["gas_info"]["gas_used"])

    async def broadcast_sync(self, tx_bytes: bytes) -> BroadcastResult:
        """Only the CheckTx verdict: code 0 means "in the mempool", not "executed"."""
        body = await self._post(
            "/cosmos/tx/v1beta1/txs", {"tx_bytes": _b64(tx_bytes), "mode": "BROADCAST_MODE_SYNC"}
        )
        resp = body["tx_response"]
        return BroadcastResult(
            int(resp["code"]),
            str(resp["txhash"]),
            str(resp.get("raw_log", "")),
            str(resp.get("codespace", "")),
        )

    async def get_tx(self, txhash: str) -> dict[str, Any] | None:
        """The executed tx_response, or None while it is not in a block yet."""
        try:
            body = await self._get(f"/cosmos/tx/v1beta1/txs/{txhash}")
        except RestError as exc:
            if exc.status == 404:
                return None
            raise
        resp: dict[str, Any] = body["tx_response"]
        return resp

    async def latest_height(self) -> int:
        body = await self._get("/cosmos/base/tendermint/v1beta1/blocks/latest")
        try:
            return int(body["block"]["header"]["height"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RestError(200, f"malformed latest block: {exc!r}") from None

    async def search_txs(
        self, conditions: Sequence[str], page: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of GetTxsEvent, ascending by height: (tx_responses, total matches).

        Sends the AND of `conditions` both as SDK 0.50's `query` and as SDK <= 0.47's repeated `events`
        (and 0.45's pagination.*): each version reads its own fields and ignores the others, so the same
        call works against Sei's older SDK fork and current chains.
        """
        params: list[tuple[str, str]] = [
            ("query", " AND ".join(conditions)),
            *(("events", c) for c in conditions),
            ("order_by", "ORDER_BY_ASC"),
            ("page", str(page)),
            ("limit", str(limit)),
            ("pagination.offset", str((page - 1) * limit)),
            ("pagination.limit", str(limit)),
        ]
        body = await self._get("/cosmos/tx/v1beta1/txs", params)
        try:
            responses = list(body.get("tx_responses") or [])
            total = body.get("total") or (body.get("pagination") or {}).get("total") or len(responses)
            return responses, int(total)
        except (AttributeError, TypeError, ValueError) as exc:
            raise RestError(200, f"malformed tx search response: {exc!r}") from None

    async def smart_query(self, contract: str, query: dict[str, Any]) -> Any:
        encoded = base64.b64encode(orjson.dumps(query)).decode()
        body = await self._get(f"/cosmwasm/wasm/v1/contract/{contract}/smart/{encoded}")
        return body["data"]

    async def _get(self, path: str, params: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
        async with self._session.get(self._base + path, params=list(params), timeout=_timeout()) as resp:
            return await _json(resp)

    async def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        async with self._session.post(
            self._base + path, data=orjson.dumps(payload), timeout=_timeout(), headers=_JSON
        ) as resp:
            return await _json(resp)


_JSON = {"Content-Type": "application/json"}


def _timeout() -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def _json(resp: aiohttp.ClientResponse) -> dict[str, Any]:
    raw = await resp.read()
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise RestError(resp.status, f"non-JSON body: {raw[:200]!r}") from None
    if resp.status != 200 or not isinstance(body, dict):
        message = body.get("message", str(body)) if isinstance(body, dict) else str(body)
        raise RestError(resp.status, str(message))
    return body
