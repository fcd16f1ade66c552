"""Hot-reload pieces with injected clocks: the latency check's p99 rule, the shadow's CPU budget, the
swapper's refusal memory and the capped prediction table (real SQLite)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from flashmm_engine.db.migrate import upgrade_to_head
from flashmm_engine.engine.reload.predictions import PredictionBuffer, PredictionStore
from flashmm_engine.engine.reload.shadow import ShadowChallenger
from flashmm_engine.engine.reload.swap import ModelSwapper
from flashmm_engine.engine.reload.types import Candidate
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.models.loader import LatencyCheck, LoadedModel, TooSlow, check_latency, load_model
from flashmm_engine.types import BookTop, FeedView
from tests import reload_models

BUDGET_NS = 1_000


def scripted_clock(durations: list[int]) -> Callable[[], int]:
    """A clock whose consecutive start/stop readings are `durations` apart, one pair per call."""
    readings: Iterator[int] = itertools.chain.from_iterable((0, d) for d in durations)
    return lambda: next(readings)


def test_latency_within_budget_returns_the_p99() -> None:
    durations = [500] * 199 + [2_000]  # one slow call in 200 is within a p99
    p99 = check_latency(lambda: None, LatencyCheck(BUDGET_NS, 200), scripted_clock(durations))
    assert 500 <= p99 <= 2_000


def test_latency_refuses_as_soon_as_the_p99_is_over_budget() -> None:
    calls = 0

    def call() -> None:
        nonlocal calls
        calls += 1

    durations = [500, 5_000, 5_000, 5_000] + [500] * 196
    with pytest.raises(TooSlow, match="3 of 4 probe calls over the 1 us"):
        check_latency(call, LatencyCheck(BUDGET_NS, 200), scripted_clock(durations))
    assert calls == 4  # refused without running the other 196


@pytest.fixture(scope="module")
def good_model(tmp_path_factory: pytest.TempPathFactory) -> LoadedModel:
    root = tmp_path_factory.mktemp("models")
    return load_model(reload_models.export_good(root, "m", "v1"), FeatureSpec().spec_hash())


def view(ts_ns: int) -> FeedView:
    n = len(FeatureSpec().names())
    return FeedView("M", ts_ns, BookTop(100, 5, 102, 5), features=tuple(0.1 for _ in range(n)))


class RecordingBuffer(PredictionBuffer):
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.rows_written = self.rows_dropped = self.write_errors = 0

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)


def test_shadow_pays_back_time_over_its_budget_with_skipped_cycles(good_model: LoadedModel) -> None:
    # readings per predicted cycle: start, stop. 3.5 budgets -> debt 2.5 budgets -> 3 cycles skipped
    clock = scripted_clock([3_500, 500, 500])
    sink = RecordingBuffer()
    shadow = ShadowChallenger("m", "e1", BUDGET_NS, sink, clock)
    shadow.replace(good_model)
    for i in range(6):
        shadow.after_cycle("M", view(i))
    assert (shadow.predictions, shadow.skipped_over_budget) == (3, 3)
    assert [row["ts_ns"] for row in sink.rows] == [0, 4, 5]
    assert sink.rows[0]["shadow_version"] == "v1" and sink.rows[0]["production_version"] is None


def test_a_refused_version_is_not_loaded_again(tmp_path: Path) -> None:
    model_dir = reload_models.export_nan(tmp_path, "m", "bad")
    events: list[tuple[str, dict[str, Any]]] = []
    swapped: list[LoadedModel] = []
    swapper = ModelSwapper(
        "m", FeatureSpec().spec_hash(), None, lambda k, d: events.append((k, d)), swapped.append
    )
    sha = reload_models.manifest_sha(model_dir)
    candidate = Candidate("m", "bad", str(model_dir), sha)

    async def twice() -> tuple[bool, bool]:
        return await swapper.ensure(candidate, "poll"), await swapper.ensure(candidate, "poll")

    assert asyncio.run(twice()) == (False, False)
    swapper.close()
    assert swapper.refusals == 1 and swapper.refusals_by_reason == {"ProbeError": 1}
    assert [kind for kind, _ in events] == ["model_refused"] and not swapped
    assert events[0][1]["reason"] == "ProbeError" and swapper.last_refusal is not None


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def test_the_prediction_table_keeps_only_its_cap(store_url: str) -> None:
    url = store_url
    upgrade_to_head(url)
    store = PredictionStore(url, cap_rows=25)
    row = {
        "ts_ns": 1,
        "instance_id": "e1",
        "market": "M",
        "model_name": "m",
        "mid_x2": 202,
        "production_version": None,
        "production_expected_bps": None,
        "production_probs": None,
        "shadow_version": "v1",
        "shadow_expected_bps": 0.1,
        "shadow_probs": [[0.2, 0.6, 0.2]],
        "shadow_inference_ns": 10,
    }

    async def write() -> PredictionBuffer:
        buffer = PredictionBuffer(store, batch_rows=10)
        for i in range(95):
            buffer.add({**row, "ts_ns": i})
            if i % 10 == 9:
                await buffer.drain()
        await buffer.close()  # the last 5, a partial batch
        return buffer

    buffer = asyncio.run(write())
    reopened = PredictionStore(url, cap_rows=25)
    assert (buffer.rows_written, buffer.rows_dropped) == (95, 0)
    assert reopened.count() == 25
    reopened.close()


def test_rows_beyond_the_buffer_are_dropped_and_counted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'absent' / 'store.db'}"  # no such directory: every write fails
    buffer = PredictionBuffer(PredictionStore(url, cap_rows=25), batch_rows=10)

    async def overfill() -> None:
        for i in range(1_000):
            buffer.add({"ts_ns": i})
        await buffer.close()

    asyncio.run(overfill())
    assert buffer.rows_written == 0 and buffer.write_errors >= 1
    assert buffer.rows_dropped == 1_000


class UniformModel:
    def predict(self, x: Any) -> Any:
        import numpy as np

        return np.full((x.shape[0], 1, 3), 1 / 3)


def test_a_swapped_in_sequence_predictor_continues_from_the_old_window() -> None:
    import numpy as np

    from flashmm_engine.strategy.prediction import ModelPredictor

    def predictor() -> ModelPredictor:
        return ModelPredictor(UniformModel(), "v", ["1s"], (3, 2), 0.25, measure_time=False)

    old, cold, warm = predictor(), predictor(), predictor()
    rows = [np.array([i, i], dtype=np.float32) for i in range(3)]
    assert [old.predict(r, 200, i) is None for i, r in enumerate(rows)] == [True, True, False]
    warm.continue_from(old)
    assert warm.predict(rows[0], 200, 3) is not None  # a full window at once
    assert cold.predict(rows[0], 200, 3) is None  # without it: the window refills first
