"""Tx search and latest block for the stub: GET /cosmos/tx/v1beta1/txs and .../blocks/latest.

Request shapes follow cosmos-sdk proto/cosmos/tx/v1beta1/service.proto GetTxsEventRequest: SDK 0.50 reads
`query` (a CometBFT query) with `page`/`limit`/`order_by`; SDK <= 0.47 reads repeated `events`
(`type.attr=value`, joined with AND) and 0.45 `pagination.offset`/`pagination.limit`. An empty request
gets 0.50's "query cannot be empty". Results come from CometBFT tx_search: ascending (height, index),
at most 100 per page, and a page past the end is an error.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flashmm_engine.venues.sei.stub.chain import StubChain, TxRecord
from flashmm_engine.venues.sei.stub.query import QueryError, event_index, matches, parse_query

DEFAULT_LIMIT = 100
"""cosmos-sdk types/query DefaultLimit."""
MAX_PER_PAGE = 100
"""CometBFT rpc/core maxPerPage: larger per_page values are capped."""
# x/auth/tx EventRegex (SDK 0.47): {type}.{attr}={value}, also with <= / >=
EVENT_FORMAT = "{eventType}.{eventAttribute}={value}"
_EVENT = re.compile(r"^[a-zA-Z_]+\.[a-zA-Z_]+[<>]?=\S+$")


class SearchError(ValueError):
    def __init__(self, status: int, grpc_code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.grpc_code = grpc_code


@dataclass(frozen=True, slots=True)
class SearchRequest:
    query: str
    page: int
    limit: int
    descending: bool


def _int_param(params: Mapping[str, str], name: str) -> int:
    text = params.get(name, "0") or "0"
    if not text.isdigit():
        raise SearchError(400, 3, f"invalid {name}: {text!r}")
    return int(text)


def parse_request(params: Mapping[str, str], events: list[str]) -> SearchRequest:
    query = params.get("query", "")
    if not query and events:
        for event in events:
            if not _EVENT.match(event):
                raise SearchError(
                    400, 3, f"invalid event; event {event} should be of the format: {EVENT_FORMAT}"
                )
        query = " AND ".join(events)
    if not query:
        raise SearchError(400, 3, "query cannot be empty")
    page, limit = _int_param(params, "page"), _int_param(params, "limit")
    legacy_limit, offset = _int_param(params, "pagination.limit"), _int_param(params, "pagination.offset")
    if not limit and legacy_limit:
        limit, page = legacy_limit, offset // legacy_limit + 1
    limit = min(limit or DEFAULT_LIMIT, MAX_PER_PAGE)
    descending = params.get("order_by", "") == "ORDER_BY_DESC"
    return SearchRequest(query, page or 1, limit, descending)


def search(chain: StubChain, req: SearchRequest) -> dict[str, Any]:
    try:
        conditions = parse_query(req.query)
    except QueryError as exc:
        raise SearchError(500, 2, f"failed to search for txs: {exc}") from None
    found = [r for r in _ordered(chain, req.descending) if matches(conditions, event_index(r))]
    pages = max(1, -(-len(found) // req.limit))
    if req.page > pages:
        message = f"page should be within [1, {pages}] range, given {req.page}"
        raise SearchError(500, 2, f"failed to search for txs: {message}")
    start = (req.page - 1) * req.limit
    chosen = found[start : start + req.limit]
    # decoded Tx JSON is not produced by the stub: clients read tx_responses
    return {
        "txs": [],
        "tx_responses": [r.tx_response() for r in chosen],
        "pagination": None,
        "total": str(len(found)),
    }


def _ordered(chain: StubChain, descending: bool) -> list[TxRecord]:
    return sorted(chain.indexed(), key=lambda r: (r.height, r.index), reverse=descending)


def latest_block(chain: StubChain) -> dict[str, Any]:
    """The parts of GetLatestBlockResponse a client needs: header chain id, height and time."""
    txs = [r for r in chain.txs.values() if r.height == chain.height]
    header = {
        "chain_id": chain.cfg.chain_id,
        "height": str(chain.height),
        "time": txs[0].timestamp if txs else None,
    }
    block = {"header": header, "data": {"txs": [base64.b64encode(r.tx_bytes).decode() for r in txs]}}
    return {"block_id": None, "block": block, "sdk_block": block}
