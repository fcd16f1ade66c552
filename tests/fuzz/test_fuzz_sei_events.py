"""Fuzzing Sei event decoding: websocket Tx pushes and REST tx responses either decode or are refused
with EventFormatError; a decoded tx's unreadable events carry their reason instead of failing the tx."""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from flashmm_engine.venues.sei.events import EventFormatError, TxOutcome, outcome_from_rest, outcome_from_ws
from tests.fuzz.strategies import FUZZ, JSON, objects

B64 = st.binary(max_size=12).map(lambda b: base64.b64encode(b).decode())
ATTR = objects(["key", "value", "index"], st.one_of(B64, JSON, st.sampled_from(["msg_index", "0", "-1"])))
EVENT = objects(["type", "attributes"], st.one_of(st.lists(ATTR, max_size=4), JSON, st.just("wasm")))
EVENTS = st.one_of(st.lists(EVENT, max_size=4), JSON)
RESULT = objects(["code", "log", "events"], st.one_of(EVENTS, JSON))
TX_RESULT = objects(["height", "tx", "result"], st.one_of(RESULT, B64, JSON))
WS = st.one_of(
    st.builds(lambda tx: {"result": {"data": {"value": {"TxResult": tx}}}}, TX_RESULT),
    objects(["result", "id", "jsonrpc"]),
)
REST = objects(["txhash", "height", "code", "raw_log", "events"], st.one_of(EVENTS, JSON))


def _check(decode: Any, message: Any) -> None:
    try:
        outcome = decode(message)
    except EventFormatError as exc:
        assert str(exc)
        return
    assert isinstance(outcome, TxOutcome)
    for event in outcome.events:
        assert event.error or event.msg_index >= -1


@FUZZ
@given(message=WS)
def test_websocket_tx_pushes_decode_or_are_refused(message: Any) -> None:
    _check(outcome_from_ws, message)


@FUZZ
@given(message=REST)
def test_rest_tx_responses_decode_or_are_refused(message: Any) -> None:
    _check(outcome_from_rest, message)
