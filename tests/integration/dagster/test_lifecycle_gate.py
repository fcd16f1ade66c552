"""The whole graph on the spot fixture slice, materialized on one ephemeral Dagster instance, both ways:

1. ingest -> features -> training set -> candidate -> validation -> export -> promotion (with a gate that
   lets a plumbing-sized candidate through), and the publish sensor appends it to `flashmm:models` on the
   real Redis;
2. a candidate trained on shuffled labels, gated on log loss against that production model: the blocking
   check fails with the failing values in its metadata, export and promotion do not run, production is
   unchanged.
"""

import shutil
from pathlib import Path

import dagster as dg
import pytest
import redis

from flashmm_dagster.definitions import ASSETS
from flashmm_dagster.partitions import partition_key
from flashmm_dagster.resources import FlashmmResource
from flashmm_dagster.sensors import publish_production_model
from flashmm_engine.pipeline.promotion import MODEL_STREAM, production_version

SPOT_SLICE = "spot_ethusdt_slice.raw.gz"
HOURLY = ["raw_segments", "market_events", "features"]
LIFECYCLE = ["training_set", "candidate_model", "model_validation", "exported_model", "production_model"]


def _lifecycle(
    instance: dg.DagsterInstance, resource: FlashmmResource, shuffle: int | None
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ASSETS,
        instance=instance,
        resources={"flashmm": resource},
        selection=LIFECYCLE,
        run_config={"ops": {"candidate_model": {"config": {"shuffle_labels_seed": shuffle}}}},
        raise_on_error=False,
    )


def _materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events() if e.asset_key}


def test_gate_promotes_then_blocks_a_worse_candidate(
    tmp_path: Path, fixtures_dir: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    shutil.copy(fixtures_dir / "binance" / SPOT_SLICE, drop / SPOT_SLICE)
    resource = FlashmmResource(home=str(tmp_path / "home"), drop_dirs=[str(drop)], redis_url=redis_url)
    db = resource.database()
    instance = dg.DagsterInstance.ephemeral()
    key = partition_key("2024-08-08-23:00", "binance-spot-ethusdt")
    hourly = dg.materialize(
        ASSETS, instance=instance, resources={"flashmm": resource}, selection=HOURLY, partition_key=str(key)
    )
    assert hourly.success
    checks = {e.check_name: e.passed for e in hourly.get_asset_check_evaluations()}
    assert len(checks) == 9 and all(checks.values())

    monkeypatch.setenv("FLASHMM_PIPELINE__GATE_METRICS", '["quote_uptime"]')
    monkeypatch.setenv("FLASHMM_PIPELINE__GATE_MARGIN", "-1.0")
    first = _lifecycle(instance, resource, shuffle=None)
    assert first.success
    assert _materialized(first) == set(LIFECYCLE)
    promoted = production_version(db, "flashmm")
    assert promoted is not None and promoted.stage == "production"

    context = dg.build_sensor_context(instance=instance, resources={"flashmm": resource})
    tick = publish_production_model.evaluate_tick(context)
    assert f"published flashmm/{promoted.version} to {MODEL_STREAM}" in (tick.skip_message or "")
    entries = redis.Redis.from_url(redis_url).xrange(MODEL_STREAM)
    assert len(entries) == 1
    fields = {k.decode(): v.decode() for k, v in entries[0][1].items()}
    assert fields == {"name": "flashmm", "version": promoted.version, "path": promoted.path,
                      "sha256": promoted.sha256}  # fmt: skip

    monkeypatch.setenv("FLASHMM_PIPELINE__GATE_METRICS", '["log_loss"]')
    monkeypatch.setenv("FLASHMM_PIPELINE__GATE_MARGIN", "0.0")
    worse = _lifecycle(instance, resource, shuffle=1)
    assert not worse.success
    assert _materialized(worse) == {"training_set", "candidate_model", "model_validation"}
    gate = {
        e.check_name: e for e in worse.get_asset_check_evaluations() if e.check_name == "beats_comparator"
    }
    verdict = gate["beats_comparator"]
    assert not verdict.passed
    (failing,) = verdict.metadata["failing_values"].value
    assert failing["name"] == "log_loss" and failing["comparator"] == "production"
    assert failing["observed"] > failing["threshold"]
    assert production_version(db, "flashmm") == promoted
