"""One quote cycle = one transaction: simulate for gas, price the fee, sign, broadcast (sync), all under
the sequence lock so no two transactions are ever signed with the same sequence."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TypeVar

from flashmm_engine.config.sei import SeiSettings
from flashmm_engine.venues.sei.codec import ExecuteCall
from flashmm_engine.venues.sei.events import tx_hash
from flashmm_engine.venues.sei.rest import RestError, SeiRest
from flashmm_engine.venues.sei.sequence import (
    CODE_WRONG_SEQUENCE,
    AccountInfo,
    BroadcastResult,
    SequenceManager,
    expected_sequence,
)
from flashmm_engine.venues.sei.signing import TxParams, TxSigner

SIMULATION_FAILED = -1
"""Result code for a tx that was never broadcast because simulation failed (not a chain code)."""
# wasmd wraps a failing message as "failed to execute message; message index: N: <reason>: ..."
_MESSAGE_INDEX = re.compile(r"message index: (\d+)")

T = TypeVar("T")


def split_failed_message(items: Sequence[T], raw_log: str) -> tuple[list[T], list[T]]:
    """(failed, retryable): the one message the log blames and the rest of the cycle, or everything
    failed when the log names no message of this tx (out of gas, fee, timeout: nothing to isolate)."""
    match = _MESSAGE_INDEX.search(raw_log)
    index = int(match.group(1)) if match else -1
    if not 0 <= index < len(items):
        return list(items), []
    return [items[index]], [it for i, it in enumerate(items) if i != index]


def gas_limit(simulated: int, margin: Decimal, cap: int) -> int:
    return min(cap, math.ceil(Decimal(simulated) * margin))


def fee_for_gas(gas: int, gas_price: Decimal) -> int:
    return math.ceil(Decimal(gas) * gas_price)


class CycleSubmitter:
    def __init__(
        self, settings: SeiSettings, signer: TxSigner, rest: SeiRest, sequence: SequenceManager
    ) -> None:
        self._s = settings
        self._signer = signer
        self._rest = rest
        self.sequence = sequence
        self.last_gas = 0
        self.last_fee = 0

    async def submit(self, calls: Sequence[ExecuteCall], on_signed: Callable[[str], None]) -> BroadcastResult:
        """`on_signed(txhash)` runs before the broadcast, so no event of the tx can arrive unannounced."""
        return await self.sequence.submit(lambda info: self._sign_and_send(calls, info, on_signed))

    async def _sign_and_send(
        self, calls: Sequence[ExecuteCall], info: AccountInfo, on_signed: Callable[[str], None]
    ) -> BroadcastResult:
        s = self._s
        draft = self._sign(calls, info, s.gas_cap, 0)
        try:
            simulated = await self._rest.simulate(draft)
        except RestError as exc:
            code = CODE_WRONG_SEQUENCE if expected_sequence(exc.message) is not None else SIMULATION_FAILED
            return BroadcastResult(code, "", exc.message)
        gas = gas_limit(simulated, s.gas_margin, s.gas_cap)
        fee = fee_for_gas(gas, s.gas_price)
        self.last_gas, self.last_fee = gas, fee
        tx_bytes = self._sign(calls, info, gas, fee)
        on_signed(tx_hash(tx_bytes))
        return await self._rest.broadcast_sync(tx_bytes)

    def _sign(self, calls: Sequence[ExecuteCall], info: AccountInfo, gas: int, fee: int) -> bytes:
        params = TxParams(self._s.chain_id, info.account_number, info.sequence, gas, fee, self._s.fee_denom)
        return self._signer.sign_execute(self._s.contract_address, calls, params)
