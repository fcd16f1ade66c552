"""Scale-out: two engine processes' runtimes (instance ids a and b, one market each) share one PostgreSQL
ledger; both reconcile and trade, their client ids never collide, and each market's ledger position and
cash equal its venue's."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from pydantic import SecretStr

from flashmm_engine.config.engine import EngineSettings
from flashmm_engine.config.settings import Settings
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.engine.runtime import EngineRuntime
from flashmm_engine.ledger.store import Ledger
from tests.e2e.supervised import KEY, venue_account
from tests.integration.sim_process import sim_venue_process

WAIT_S = 120.0
FILLS_EACH = 2


def settings(instance: str, market: str, url: str, ledger_url: str) -> Settings:
    return Settings(
        engine=EngineSettings(
            instance_id=instance, markets=[market], sim_urls={market: url}, ledger_url=SecretStr(ledger_url)
        ),
        sim=SimSettings(api_keys={"mm": SecretStr(KEY)}),
    )


async def test_two_instances_share_one_postgresql_ledger(pg_url: str, tmp_path: Path) -> None:
    env = {"FLASHMM_SIM__PORT": "0", "FLASHMM_SIM__API_KEYS": json.dumps({"mm": KEY})}
    eth, btc = "SIM:ETHUSD", "SIM:BTCUSD"
    with (
        sim_venue_process([], env, tmp_path) as venue_a,
        sim_venue_process([], {**env, "FLASHMM_SIM__SYMBOL": btc}, tmp_path) as venue_b,
    ):
        Ledger(pg_url).close()  # migrate once, before two processes race to
        runtimes = [
            EngineRuntime(settings("a", eth, venue_a["url"], pg_url), [eth]),
            EngineRuntime(settings("b", btc, venue_b["url"], pg_url), [btc]),
        ]
        stop = asyncio.Event()
        tasks = []
        async with asyncio.timeout(WAIT_S):
            for (
                runtime
            ) in runtimes:  # one after the other: alembic's upgrade is not thread-safe in one process
                tasks.append(asyncio.create_task(runtime.run(stop)))
                await runtime.started.wait()
            while any(r.runners[0].stats.fills_recorded < FILLS_EACH for r in runtimes):
                assert not any(t.done() for t in tasks)
                await asyncio.sleep(0.1)
        stop.set()
        await asyncio.gather(*tasks)
        accounts = [
            await venue_account(int(v["url"].rsplit(":", 1)[1]), m, f"{i}-")
            for v, m, i in ((venue_a, eth, "a"), (venue_b, btc, "b"))
        ]
    ledger = Ledger(pg_url, migrate=False)
    try:
        with ledger.engine.connect() as conn:
            ids = [r[0] for r in conn.exec_driver_sql("SELECT client_id FROM ledger_orders").all()]
        for (market, instance), account in zip(((eth, "a"), (btc, "b")), accounts, strict=True):
            held = ledger.holdings(f"sim/{market}", market)
            assert held is not None and held.fills >= FILLS_EACH
            assert held.book.position == account.position and held.cash == account.cash
            assert account.open_ours == 0
            assert any(i.startswith(f"{instance}-") for i in ids)
        assert len(ids) == len(set(ids))
        assert {e["instance_id"] for e in ledger.events("reconciled")} == {"a", "b"}
    finally:
        ledger.close()
