"""The shadow challenger in a 5 Hz run against the real sim venue: the latest validated version predicts
every cycle beside production and is never traded; the paired predictions land in model_predictions,
capped; a refused challenger is recorded and production trades on."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from flashmm_engine.config.reload import ReloadSettings
from flashmm_engine.engine.reload.predictions import model_predictions
from flashmm_engine.ledger.store import Ledger
from tests import reload_models
from tests.integration.reload_support import NAME, Env, runner_of, running_engine, served, wait_until

CAP = 20
BATCH = 5
RUN_S = 90.0
UNREACHABLE_BUDGET_US = 10_000_000


def store(tmp_path: Path) -> Env:
    env = Env(tmp_path, f"sqlite:///{tmp_path / 'registry.db'}", None)
    root = tmp_path / "models"
    for version, seed, stage in (("v1", 1, "production"), ("v2", 2, "validated"), ("v0", 3, None)):
        model_dir = reload_models.export_good(root, NAME, version, seed)
        reload_models.register(env.registry_url, NAME, version, model_dir, stage)
    return env


async def test_the_latest_validated_version_shadows_production_untraded(tmp_path: Path) -> None:
    env = store(tmp_path)
    # a budget no inference reaches: every cycle predicts however loaded the machine is (the budget's
    # skipping is tested with a scripted clock in tests/unit/engine/test_model_reload.py)
    reload = ReloadSettings(
        shadow=True,
        shadow_budget_us=UNREACHABLE_BUDGET_US,
        predictions_cap_rows=CAP,
        predictions_batch_rows=BATCH,
        predictions_flush_s=0.5,
    )
    async with running_engine(env, reload) as runtime:
        assert served(runtime) == "v1"
        shadow = runtime.model_status().shadow
        assert shadow is not None and shadow.version == "v2"
        runner = runner_of(runtime)
        await wait_until(
            "shadow rows beyond the cap",
            lambda: (s := runtime.model_status().shadow) is not None and s.rows_written >= 2 * CAP,
            RUN_S,
        )
        assert runner.inference is not None and runner.inference.version == "v1"
        status = runtime.model_status().shadow
        assert status is not None and status.errors == 0 and status.predictions >= 2 * CAP
    engine = sa.create_engine(env.registry_url)
    with engine.connect() as conn:
        t = model_predictions
        rows = conn.execute(sa.select(t.c.production_version, t.c.shadow_version, t.c.shadow_probs)).all()
    engine.dispose()
    assert len(rows) <= CAP
    assert {(r[0], r[1]) for r in rows} == {("v1", "v2")}
    assert all(abs(sum(p) - 1) < 1e-4 for row in rows for p in row[2])


async def test_a_refused_challenger_is_recorded_and_production_trades_on(tmp_path: Path) -> None:
    env = store(tmp_path)
    nan_dir = reload_models.export_nan(tmp_path / "models", NAME, "nan")
    reload_models.register(env.registry_url, NAME, "nan", nan_dir, "validated")
    async with running_engine(env, ReloadSettings(shadow=True, shadow_version="nan")) as runtime:
        shadow = runtime.model_status().shadow
        assert shadow is not None and shadow.version is None and shadow.refusals == 1
        runner = runner_of(runtime)
        batches = runner.stats.batches
        await wait_until("trading", lambda: runner.stats.batches > batches + 3, RUN_S)
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    (event,) = ledger.events("shadow_refused")
    ledger.close()
    assert event["detail"]["version"] == "nan" and event["detail"]["reason"] == "ProbeError"
