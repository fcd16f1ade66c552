"""`make start` on a fresh FLASHMM_HOME with the embedded defaults (SQLite, no Redis), end to end: supervisord
runs the sim venue, the engine, dagster-webserver and dagster-daemon as real processes. The engine records the
venue's feed; `new_raw_segment` ingests it, `bootstrap_lifecycle` trains, validates, exports and promotes a
first model; the engine loads it by polling the registry. The test waits until the engine is ACTIVE on the
pipeline's production version with fills in the ledger, the lineage down to `live_trading` is materialized
and every check of it passed; then `make stop` must leave no process of the run behind.

The time from `make start` to each milestone is printed. The wait is bounded generously
(FLASHMM_E2E_BOOTSTRAP_TIMEOUT_S, default 1200 s) so that a loaded machine does not fail it; the issue's
10-minute target is read from the printed figures on a quiet machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.make_run import MAKE_TIMEOUT_S, TIMEOUT_S, Run, bootstrap, started_and_stopped

pytestmark = pytest.mark.timeout(TIMEOUT_S + 3 * MAKE_TIMEOUT_S)


def test_make_start_bootstraps_a_pipeline_model_into_the_engine(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run = Run(home, f"sqlite:///{home / 'flashmm.db'}")
    started_and_stopped(run, "start", "stop", bootstrap)
