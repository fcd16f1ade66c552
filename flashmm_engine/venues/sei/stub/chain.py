"""Stub chain state machine: CheckTx into a mempool, blocks that execute the contract, tx results by hash."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flashmm_engine.venues.sei.events import MSG_INDEX_ATTR, tx_hash
from flashmm_engine.venues.sei.stub.ante import (
    EXECUTE_TYPE_URL,
    AnteConfig,
    DecodedTx,
    TxRejected,
    ante,
    decode_tx,
)
from flashmm_engine.venues.sei.stub.bank import Bank
from flashmm_engine.venues.sei.stub.contract import ContractError, FinContract, RawEvent

# A fixed, deterministic gas model: enough to make simulation meaningful and "out of gas" reachable.
GAS_BASE = 80_000
GAS_PER_MSG = 40_000
GAS_PER_BYTE = 10
SDK_CODESPACE = "sdk"
WASM_CODESPACE = "wasm"
WASM_EXECUTE_FAILED = 5
OUT_OF_GAS = 11


@dataclass(slots=True)
class PendingTx:
    txhash: str
    tx_bytes: bytes
    tx: DecodedTx


@dataclass(slots=True)
class TxRecord:
    """An executed tx: what REST returns under tx_response and what the websocket pushes."""

    txhash: str
    height: int
    index: int
    tx_bytes: bytes
    code: int
    codespace: str
    raw_log: str
    gas_wanted: int
    gas_used: int
    events: list[dict[str, Any]]
    timestamp: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))

    def tx_response(self) -> dict[str, Any]:
        return {
            "height": str(self.height),
            "txhash": self.txhash,
            "codespace": self.codespace,
            "code": self.code,
            "data": "",
            "raw_log": self.raw_log,
            "logs": [],
            "info": "",
            "gas_wanted": str(self.gas_wanted),
            "gas_used": str(self.gas_used),
            "tx": None,
            "timestamp": self.timestamp,
            "events": self.events,
        }


def gas_needed(tx: DecodedTx, size: int) -> int:
    return GAS_BASE + GAS_PER_MSG * len(tx.messages) + GAS_PER_BYTE * size


class StubChain:
    def __init__(
        self, cfg: AnteConfig, bank: Bank, contract: FinContract, now_ns: Callable[[], int] = time.time_ns
    ) -> None:
        self.cfg = cfg
        self.bank = bank
        self.contract = contract
        self._now_ns = now_ns
        self.height = 1
        self.mempool: list[PendingTx] = []
        self.txs: dict[str, TxRecord] = {}
        self.index_from_height = 0
        """Txs below this height are not in the tx index (a node state-synced or pruned since)."""

    def indexed(self) -> list[TxRecord]:
        return [r for r in self.txs.values() if r.height >= self.index_from_height]

    def check_tx(self, tx_bytes: bytes) -> dict[str, Any]:
        """BROADCAST_MODE_SYNC: the CheckTx verdict only."""
        txhash = tx_hash(tx_bytes)
        try:
            tx = decode_tx(tx_bytes, self.cfg.prefix)
            ante(tx, self.bank, self.cfg, simulate=False)
        except TxRejected as exc:
            return {
                "code": exc.code,
                "txhash": txhash,
                "raw_log": exc.raw_log,
                "codespace": SDK_CODESPACE,
                "height": "0",
            }
        self.mempool.append(PendingTx(txhash, tx_bytes, tx))
        return {"code": 0, "txhash": txhash, "raw_log": "[]", "codespace": "", "height": "0"}

    def simulate(self, tx_bytes: bytes) -> int:
        """Gas used; raises TxRejected (sequence is checked, signature and fee are not, as in the SDK)."""
        tx = decode_tx(tx_bytes, self.cfg.prefix)
        ante(tx, self.bank, self.cfg, simulate=True)
        try:
            self.contract.validate(tx.messages)
        except ContractError as exc:
            raise TxRejected(WASM_EXECUTE_FAILED, _wasm_log(exc)) from None
        return gas_needed(tx, len(tx_bytes))

    def produce_block(self) -> list[TxRecord]:
        """Execute the mempool in arrival order as one block."""
        self.height += 1
        pending, self.mempool = self.mempool, []
        records = [self._deliver(index, p) for index, p in enumerate(pending)]
        for p in pending:
            self.bank.ensure(p.tx.signer).committed_sequence += 1
        for rec in records:
            self.txs[rec.txhash] = rec
        return records

    def _deliver(self, index: int, p: PendingTx) -> TxRecord:
        tx = p.tx
        events = _tx_events(tx)
        used = gas_needed(tx, len(p.tx_bytes))
        code, codespace, raw_log = 0, "", ""
        if used > tx.gas_limit:
            code, codespace = OUT_OF_GAS, SDK_CODESPACE
            raw_log = f"out of gas in location: wasm contract; gasWanted: {tx.gas_limit}, gasUsed: {used}"
            raw_log += ": out of gas"
            used = tx.gas_limit
        else:
            try:
                self.contract.validate(tx.messages)
                per_msg = self.contract.execute(tx.messages, self._now_ns())
            except ContractError as exc:
                code, codespace, raw_log = WASM_EXECUTE_FAILED, WASM_CODESPACE, _wasm_log(exc)
            else:
                for i, contract_events in enumerate(per_msg):
                    events += _msg_events(tx.messages[i].sender, self.contract.address, i, contract_events)
        return TxRecord(
            p.txhash, self.height, index, p.tx_bytes, code, codespace, raw_log, tx.gas_limit, used, events
        )


def _wasm_log(exc: ContractError) -> str:
    reason = f"message index: {exc.msg_index}: {exc.reason}"
    return f"failed to execute message; {reason}: execute wasm contract failed"


def _event(type_: str, attrs: dict[str, str]) -> dict[str, Any]:
    return {"type": type_, "attributes": [{"key": k, "value": v, "index": True} for k, v in attrs.items()]}


def _tx_events(tx: DecodedTx) -> list[dict[str, Any]]:
    fee = ",".join(f"{c.amount}{c.denom}" for c in tx.fee)
    return [
        _event("tx", {"fee": fee, "fee_payer": tx.signer}),
        _event("tx", {"acc_seq": f"{tx.signer}/{tx.sequence}"}),
        _event("tx", {"signature": base64.b64encode(tx.signature).decode()}),
    ]


def _msg_events(sender: str, contract: str, i: int, contract_events: list[RawEvent]) -> list[dict[str, Any]]:
    idx = {MSG_INDEX_ATTR: str(i)}
    out = [
        _event("message", {"action": EXECUTE_TYPE_URL, "sender": sender, "module": "wasm", **idx}),
        _event("execute", {"_contract_address": contract, **idx}),
        _event("wasm", {"_contract_address": contract, **idx}),
    ]
    out += [_event(type_, {**attrs, **idx}) for type_, attrs in contract_events]
    return out
