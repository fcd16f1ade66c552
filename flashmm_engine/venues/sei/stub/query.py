"""CometBFT event queries for the stub: parse `a='x' AND tx.height>=5` and match executed txs against them.

One parser serves the websocket subscriptions and the REST/RPC tx search, as in CometBFT where both use
libs/pubsub/query. Supported: conditions joined by AND with =, <, <=, >, >= on quoted strings or integers
(what FlashMM sends); anything else is refused with CometBFT's "failed to parse query" prefix.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from flashmm_engine.venues.sei.stub.chain import TxRecord

MAX_QUERY_LENGTH = 512
"""CometBFT rpc/core/events.go maxQueryLength."""

_CONDITION = re.compile(r"^\s*([\w.\-]+)\s*(<=|>=|=|<|>)\s*(?:'([^']*)'|(\d+))\s*$")
_OPS: dict[str, Callable[[int, int], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class QueryError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Condition:
    key: str
    op: str
    value: str

    def holds(self, values: list[str]) -> bool:
        if self.op == "=":
            return self.value in values
        compare = _OPS[self.op]
        return any(v.isdigit() and compare(int(v), int(self.value)) for v in values)


def parse_query(query: str) -> list[Condition]:
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError("maximum query length exceeded")
    out = []
    for part in re.split(r"\s+AND\s+", query.strip()):
        match = _CONDITION.match(part)
        if match is None:
            raise QueryError(f"failed to parse query: {query!r}")
        key, op, quoted, number = match.groups()
        if op != "=" and number is None:
            raise QueryError(f"failed to parse query: {op} needs a number in {part!r}")
        out.append(Condition(key, op, quoted if quoted is not None else number))
    return out


def event_index(rec: TxRecord) -> dict[str, list[str]]:
    """The flattened "type.key" -> values map CometBFT indexes and publishes beside each Tx event."""
    index: dict[str, list[str]] = {
        "tm.event": ["Tx"],
        "tx.hash": [rec.txhash],
        "tx.height": [str(rec.height)],
    }
    for ev in rec.events:
        for attr in ev["attributes"]:
            index.setdefault(f"{ev['type']}.{attr['key']}", []).append(attr["value"])
    return index


def matches(conditions: list[Condition], index: dict[str, list[str]]) -> bool:
    return all(c.holds(index.get(c.key, [])) for c in conditions)
