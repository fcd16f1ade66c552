"""Tx results read the same from plain and base64-encoded attributes, websocket or REST."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from flashmm_engine.venues.sei.events import EventFormatError, outcome_from_rest, outcome_from_ws, tx_hash

EVENTS: list[dict[str, Any]] = [
    {
        "type": "message",
        "attributes": [
            {"key": "action", "value": "/cosmwasm.wasm.v1.MsgExecuteContract"},
            {"key": "msg_index", "value": "0"},
        ],
    },
    {
        "type": "wasm-fill",
        "attributes": [
            {"key": "side", "value": "bid"},
            {"key": "order_idx", "value": "4"},
            {"key": "msg_index", "value": "0"},
        ],
    },
]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def ws_message(events: list[dict[str, Any]]) -> dict[str, Any]:
    tx_result = {"height": "12", "index": 0, "tx": b64("tx-bytes"), "result": {"log": "", "events": events}}
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "result": {
            "query": "q",
            "data": {"type": "tendermint/event/Tx", "value": {"TxResult": tx_result}},
            "events": {},
        },
    }


def test_plain_and_base64_attributes_agree() -> None:
    encoded = [
        {
            "type": e["type"],
            "attributes": [{"key": b64(a["key"]), "value": b64(a["value"])} for a in e["attributes"]],
        }
        for e in EVENTS
    ]
    plain = outcome_from_ws(ws_message(EVENTS))
    decoded = outcome_from_ws(ws_message(encoded))
    assert plain == decoded
    assert plain.txhash == tx_hash(b"tx-bytes")
    assert plain.events[1].attrs == {"side": "bid", "order_idx": "4", "msg_index": "0"}
    assert [(e.msg_index, e.event_index) for e in plain.events] == [(0, 0), (0, 1)]


def test_a_plain_key_that_is_valid_base64_is_not_decoded() -> None:
    only_side = [{"type": "wasm-x", "attributes": [{"key": "side", "value": "ask"}]}]
    assert outcome_from_ws(ws_message(only_side)).events[0].attrs == {"side": "ask"}


def test_rest_tx_response_and_bad_shapes() -> None:
    outcome = outcome_from_rest(
        {"txhash": "ab", "height": "3", "code": 5, "raw_log": "boom", "events": EVENTS}
    )
    assert (outcome.txhash, outcome.code, len(outcome.events)) == ("AB", 5, 2)
    with pytest.raises(EventFormatError):
        outcome_from_ws({"result": {"data": {"value": {}}}})
    # one unreadable event does not make the tx unreadable: it is marked, the others stand
    mixed = outcome_from_ws(ws_message([EVENTS[0], {"attributes": []}, "junk", EVENTS[1]]))
    assert [bool(e.error) for e in mixed.events] == [False, True, True, False]
    assert [e.event_index for e in mixed.events] == [0, 1, 2, 3]
    with pytest.raises(EventFormatError):
        outcome_from_rest({"height": "x"})
