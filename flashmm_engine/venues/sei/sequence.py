"""Account sequence ownership: one lock, advance only on CheckTx code 0, resync on code 32 and periodically.

Sequence mismatch storms happen when several coroutines sign with the same cached sequence, or when the
cache silently drifts from the chain. Here one lock serializes sign+broadcast, the sequence moves only on an
accepted CheckTx, and the chain's own "expected X" fixes the cache at once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

CODE_OK = 0
CODE_WRONG_SEQUENCE = 32
MAX_SEQUENCE_RETRIES = 2
"""Re-signs after a code 32 within one submit; more means something else is broadcasting with our key."""

_MISMATCH = re.compile(r"account sequence mismatch, expected (\d+), got (\d+)")


@dataclass(frozen=True, slots=True)
class AccountInfo:
    account_number: int
    sequence: int


@dataclass(frozen=True, slots=True)
class BroadcastResult:
    code: int
    txhash: str
    raw_log: str
    codespace: str = ""

    @property
    def accepted(self) -> bool:
        return self.code == CODE_OK


def expected_sequence(raw_log: str) -> int | None:
    """The chain's expected sequence from a code-32 raw log, if present."""
    match = _MISMATCH.search(raw_log)
    return int(match.group(1)) if match else None


AccountFetcher = Callable[[], Awaitable[AccountInfo]]
SignAndSend = Callable[[AccountInfo], Awaitable[BroadcastResult]]


class SequenceManager:
    def __init__(
        self,
        fetch_account: AccountFetcher,
        resync_interval_s: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch_account
        self._interval = resync_interval_s
        self._monotonic = monotonic
        self._lock = asyncio.Lock()
        self._info: AccountInfo | None = None
        self._synced_at = 0.0
        self.mismatches = 0
        self.resyncs = 0

    @property
    def current(self) -> AccountInfo | None:
        return self._info

    async def submit(self, sign_and_send: SignAndSend) -> BroadcastResult:
        """Run sign_and_send with the current sequence under the lock and account for the result."""
        async with self._lock:
            for _ in range(MAX_SEQUENCE_RETRIES + 1):
                info = await self._ensure_synced()
                try:
                    result = await sign_and_send(info)
                except BaseException:
                    # unknown whether the tx reached the mempool: trust only the chain next time
                    self._info = None
                    raise
                if result.accepted:
                    self._info = AccountInfo(info.account_number, info.sequence + 1)
                    return result
                if result.code != CODE_WRONG_SEQUENCE:
                    return result
                self._on_mismatch(info, result.raw_log)
            return result

    async def resync(self) -> AccountInfo:
        async with self._lock:
            return await self._sync()

    def _on_mismatch(self, info: AccountInfo, raw_log: str) -> None:
        self.mismatches += 1
        expected = expected_sequence(raw_log)
        log.warning("sequence mismatch: used %d, chain expects %s", info.sequence, expected)
        if expected is None:
            self._info = None
        else:
            self._info = AccountInfo(info.account_number, expected)

    async def _ensure_synced(self) -> AccountInfo:
        stale = self._monotonic() - self._synced_at >= self._interval
        if self._info is None or stale:
            return await self._sync()
        return self._info

    async def _sync(self) -> AccountInfo:
        chain = await self._fetch()
        local = self._info
        # REST reports the committed sequence; txs still in the mempool make it lag behind ours
        if (
            local is not None
            and local.account_number == chain.account_number
            and local.sequence > chain.sequence
        ):
            chain = local
        self._info = chain
        self._synced_at = self._monotonic()
        self.resyncs += 1
        return self._info
