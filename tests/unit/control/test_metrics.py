"""The engine's lock-free latency histogram: `le` buckets (a value equal to a bound counts in it),
cumulative counts and the sum in seconds, as prometheus-client's parser reads them back."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from flashmm_engine.engine.reload.types import ModelStatus
from flashmm_engine.engine.status import EngineStatus
from flashmm_engine.telemetry.metrics import CYCLE_BUCKETS_S, EngineMetrics


def snapshot() -> EngineStatus:
    return EngineStatus("i1", "sim", True, 1.0, ModelStatus("m", None, None, None, None, None, 0, 0), None)


def test_cycle_histogram_buckets_count_and_sum() -> None:
    metrics = EngineMetrics(snapshot)
    observe = metrics.cycle_observer("M")
    for ns in (10_000, 50_000, 50_001, 3_000_000, 10**10):
        observe(ns)
    families = {f.name: f for f in text_string_to_metric_families(metrics.exposition().decode())}
    samples = families["flashmm_cycle_seconds"].samples
    buckets = {s.labels["le"]: s.value for s in samples if s.name.endswith("_bucket")}
    assert len(buckets) == len(CYCLE_BUCKETS_S) + 1
    assert buckets["5e-05"] == 2 and buckets["0.0001"] == 3 and buckets["0.005"] == 4
    assert buckets["+Inf"] == 5
    (count,) = (s.value for s in samples if s.name.endswith("_count"))
    (total,) = (s.value for s in samples if s.name.endswith("_sum"))
    assert count == 5 and abs(total - 10.003110001) < 1e-12
    (info,) = families["flashmm_model_info"].samples
    assert info.labels == {"name": "m", "version": "none"}


def test_registries_are_per_process_objects_not_the_global_default() -> None:
    first, second = EngineMetrics(snapshot), EngineMetrics(snapshot)
    first.cycle_observer("M")(1_000)
    text = second.exposition().decode()
    assert 'flashmm_cycle_seconds_count{market="M"}' not in text
