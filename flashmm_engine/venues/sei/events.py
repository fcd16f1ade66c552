"""Executed-transaction results, read identically from CometBFT websocket events and from tx lookups.

Attribute keys and values arrive plain (CometBFT >= 0.37, REST) or base64 (CometBFT 0.34); both are accepted.
Every event gets the key (tx hash, message index, event index) used to handle it exactly once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MSG_INDEX_ATTR = "msg_index"
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.\-]+$")


class EventFormatError(ValueError):
    """A websocket message or tx response does not have the CometBFT/Cosmos shape."""


@dataclass(frozen=True, slots=True)
class ChainEvent:
    type: str
    attrs: dict[str, str]
    msg_index: int
    event_index: int
    error: str = ""
    """Why the event could not be read (its attributes are then incomplete): it is quarantined."""


@dataclass(frozen=True, slots=True)
class TxOutcome:
    txhash: str
    height: int
    code: int
    raw_log: str
    events: tuple[ChainEvent, ...]


def tx_hash(tx_bytes: bytes) -> str:
    return hashlib.sha256(tx_bytes).hexdigest().upper()


def outcome_from_ws(message: Mapping[str, Any]) -> TxOutcome:
    """From a subscription push: result.data = {"type": "tendermint/event/Tx", "value": {"TxResult": ...}}."""
    try:
        tx_result = message["result"]["data"]["value"]["TxResult"]
        result = tx_result["result"]
        txhash = tx_hash(base64.b64decode(tx_result["tx"], validate=True))
        return TxOutcome(
            txhash=txhash,
            height=int(tx_result["height"]),
            code=int(result.get("code", 0)),
            raw_log=str(result.get("log", "")),
            events=parse_events(result.get("events") or []),
        )
    except (KeyError, TypeError, AttributeError, ValueError, binascii.Error) as exc:
        raise EventFormatError(f"not a Tx event: {exc!r}") from None


def outcome_from_rest(tx_response: Mapping[str, Any]) -> TxOutcome:
    try:
        return TxOutcome(
            txhash=str(tx_response["txhash"]).upper(),
            height=int(tx_response["height"]),
            code=int(tx_response["code"]),
            raw_log=str(tx_response.get("raw_log", "")),
            events=parse_events(tx_response.get("events") or []),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise EventFormatError(f"not a tx_response: {exc!r}") from None


def parse_events(raw_events: Sequence[Mapping[str, Any]]) -> tuple[ChainEvent, ...]:
    """One ChainEvent per raw event; an unreadable one carries `error` instead of failing the whole tx."""
    encoded = _all_base64(raw_events)
    return tuple(_parse_event(event, index, encoded) for index, event in enumerate(raw_events))


def _parse_event(event: Mapping[str, Any], index: int, encoded: bool) -> ChainEvent:
    attrs: dict[str, str] = {}
    event_type = "?"
    try:
        event_type = str(event["type"])
        for attr in event.get("attributes") or []:
            key, value = str(attr.get("key") or ""), str(attr.get("value") or "")
            if encoded:
                key, value = _b64text(key), _b64text(value)
            attrs[key] = value
        msg_index = int(attrs.get(MSG_INDEX_ATTR, "-1"))
    except (KeyError, TypeError, AttributeError, ValueError, binascii.Error) as exc:
        return ChainEvent(event_type, attrs, -1, index, error=f"unreadable event: {exc!r}")
    return ChainEvent(event_type, attrs, msg_index, index)


def _all_base64(raw_events: Sequence[Mapping[str, Any]]) -> bool:
    """CometBFT 0.34 encodes every key; plain keys such as "side" may decode by chance, so require all."""
    keys = [
        str(a.get("key") or "")
        for e in raw_events
        if isinstance(e, Mapping)
        for a in (e.get("attributes") or [])
        if isinstance(a, Mapping)
    ]
    if not keys:
        return False
    for key in keys:
        try:
            decoded = base64.b64decode(key, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        if not _IDENTIFIER.match(decoded):
            return False
    return True


def _b64text(text: str) -> str:
    return base64.b64decode(text, validate=True).decode() if text else ""
