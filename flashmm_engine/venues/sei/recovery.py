"""Exact recovery of a websocket gap: replay the contract's txs of the gap from the node's tx index.

After every (re)subscription, the txs that touched the contract between the last height the websocket
delivered and the node's latest height are fetched with GetTxsEvent (`wasm._contract_address='…' AND
tx.height>=A AND tx.height<=B`) and handed to the same once-only handler as live events. A fill recovered
this way keeps its own price, fee and liquidity, and an event seen both live and replayed counts once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from flashmm_engine.telemetry.bad_input import BadInputCounter
from flashmm_engine.venues.base import VenueError
from flashmm_engine.venues.sei.events import EventFormatError, TxOutcome, outcome_from_rest
from flashmm_engine.venues.sei.rest import SeiRest

PAGE_LIMIT = 100
"""CometBFT tx_search returns at most 100 txs per page."""
MAX_REPLAY_TXS = 20_000
"""A gap with more contract txs than this is not replayed in one go: recovery fails and is retried."""

log = logging.getLogger(__name__)


class RecoveryIncomplete(VenueError):
    pass


def gap_conditions(contract: str, from_height: int, to_height: int) -> list[str]:
    return [
        f"wasm._contract_address='{contract}'",
        f"tx.height>={from_height}",
        f"tx.height<={to_height}",
    ]


class GapReplayer:
    def __init__(
        self,
        contract: str,
        on_tx: Callable[[TxOutcome], Awaitable[None]],
        bad_input: BadInputCounter,
        page_limit: int = PAGE_LIMIT,
    ) -> None:
        self._contract = contract
        self._page_limit = page_limit
        self._on_tx = on_tx
        self._bad = bad_input
        self.resume_height = 0
        """Every contract tx below this height has been handled (the block at it may be partly handled)."""
        self.replayed_txs = 0
        self.replays = 0

    def note_live_height(self, height: int) -> None:
        """Only websocket events move this on: they arrive in block order within one session."""
        self.resume_height = max(self.resume_height, height)

    async def replay(self, rest: SeiRest) -> int:
        """Replay [resume height, latest height]; returns the number of txs handed on."""
        to_height = await rest.latest_height()
        from_height = self.resume_height or to_height
        conditions = gap_conditions(self._contract, from_height, to_height)
        handed, page = 0, 1
        while True:
            responses, total = await rest.search_txs(conditions, page, self._page_limit)
            for response in responses:
                try:
                    outcome = outcome_from_rest(response)
                except EventFormatError as exc:
                    self._bad.record("tx_search", str(exc))
                    continue
                try:
                    await self._on_tx(outcome)
                except (ValueError, ArithmeticError) as exc:  # one bad tx must not fail the recovery
                    self._bad.record("tx_search_handler", f"tx {outcome.txhash}: {exc!r}")
            handed += len(responses)
            if not responses or handed >= total:
                break
            if handed >= MAX_REPLAY_TXS:
                gap = f"{from_height}..{to_height}"
                raise RecoveryIncomplete(f"gap {gap} holds {total} txs, over {MAX_REPLAY_TXS}")
            page += 1
        self.resume_height = max(self.resume_height, to_height)
        self.replayed_txs += handed
        self.replays += 1
        log.info("replayed %d contract txs of heights %d..%d", handed, from_height, to_height)
        return handed
