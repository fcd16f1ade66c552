"""Comparing a venue snapshot as of event N with the ledger's state after exactly event N."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import cast

import pytest

from flashmm_engine.engine.links import AccountView
from flashmm_engine.engine.market_task import AppliedState, MarketRunner
from flashmm_engine.engine.reconcile import LedgerBehind, compare


@dataclass
class FakeLink:
    view: AccountView

    async def snapshot(self) -> AccountView:
        return self.view


@dataclass
class FakeRunner:
    link: FakeLink
    applied_seq: int
    history: list[AppliedState] = field(default_factory=list)
    consuming: bool = True
    holdings: None = None
    session: str | None = None

    def state_at(self, seq: int) -> AppliedState | None:
        return MarketRunner.state_at(cast(MarketRunner, self), seq)


def runner(view: AccountView, applied: int, history: list[AppliedState]) -> MarketRunner:
    return cast(MarketRunner, FakeRunner(FakeLink(view), applied, history))


async def test_the_ledger_state_at_the_snapshot_event_is_compared_not_the_latest() -> None:
    history = [AppliedState(3, 100, 5_000), AppliedState(7, 110, 4_000), AppliedState(9, 90, 6_000)]
    assert await compare(runner(AccountView(8, 110, 4_000), 9, history)) is None
    problem = await compare(runner(AccountView(9, 110, 4_000), 9, history))
    assert problem == "position: venue 110 lots, ledger 90; cash: venue 4000 units, ledger 6000"


async def test_cash_is_skipped_when_the_venue_cannot_report_it() -> None:
    history = [AppliedState(1, 5, 123)]
    assert await compare(runner(AccountView(1, 5, None), 1, history)) is None


async def test_a_ledger_behind_the_snapshot_is_not_a_disagreement() -> None:
    with pytest.raises(LedgerBehind, match="venue is at event 12"):
        await compare(runner(AccountView(12, 1, 1), 10, [AppliedState(10, 1, 1)]), time.monotonic() - 1)


async def test_a_snapshot_of_a_session_the_ledger_has_not_switched_to_is_not_compared() -> None:
    history = [AppliedState(0, 1, 1)]
    view = AccountView(0, 99, 99, session="new")
    with pytest.raises(LedgerBehind, match="the venue runs session new, the ledger is in None"):
        await compare(runner(view, 0, history), time.monotonic() - 1)
