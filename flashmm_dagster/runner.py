"""`python -m flashmm_dagster.runner`: materialize the whole graph on a folder of captures, through Dagster
(a real instance: `$DAGSTER_HOME`, or a temporary one), one run per market for the hourly stages.

    python -m flashmm_dagster.runner --data /work/shared/data/binance            # ends with a promoted model
    python -m flashmm_dagster.runner --data /work/shared/data/binance --worse    # shuffled-label candidate

Prints one JSON object: partitions, run ids, check outcomes, the gate, and production before and after.
"""

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from flashmm_dagster.definitions import ASSETS
from flashmm_dagster.partitions import partition_key
from flashmm_dagster.resources import FlashmmResource
from flashmm_engine.pipeline.promotion import production_version
from flashmm_engine.pipeline.segments import discover

HOURLY = ("raw_segments", "market_events", "features")
LIFECYCLE = ("training_set", "candidate_model", "model_validation", "exported_model", "production_model")


def hourly_ranges(keys: Sequence[tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """Per market, the first and last hour to materialize (a range: one run covers it)."""
    out: dict[str, tuple[str, str]] = {}
    for hour, market in sorted(keys):
        first, _ = out.get(market, (hour, hour))
        out[market] = (first, hour)
    return out


def run_hourly(
    instance: dg.DagsterInstance, resource: FlashmmResource, ranges: dict[str, tuple[str, str]]
) -> list[dict[str, Any]]:
    runs = []
    for market, (first, last) in ranges.items():
        started = time.perf_counter()
        result = dg.materialize(
            ASSETS,
            instance=instance,
            resources={"flashmm": resource},
            selection=list(HOURLY),
            tags={
                ASSET_PARTITION_RANGE_START_TAG: str(partition_key(first, market)),
                ASSET_PARTITION_RANGE_END_TAG: str(partition_key(last, market)),
            },
            raise_on_error=False,
        )
        runs.append({"market": market, "from": first, "to": last, "run_id": result.run_id,
                     "success": result.success, "seconds": round(time.perf_counter() - started, 2),
                     "checks": _checks(result)})  # fmt: skip
    return runs


def run_lifecycle(instance: dg.DagsterInstance, resource: FlashmmResource, worse: bool) -> dict[str, Any]:
    config = {"ops": {"candidate_model": {"config": {"shuffle_labels_seed": 1 if worse else None}}}}
    started = time.perf_counter()
    result = dg.materialize(
        ASSETS,
        instance=instance,
        resources={"flashmm": resource},
        selection=list(LIFECYCLE),
        run_config=config,
        raise_on_error=False,
    )
    materialized = sorted(
        e.asset_key.to_user_string() for e in result.get_asset_materialization_events() if e.asset_key
    )
    seconds = round(time.perf_counter() - started, 2)
    return {"run_id": result.run_id, "success": result.success, "seconds": seconds,
            "materialized": materialized, "checks": _checks(result)}  # fmt: skip


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for event in result.get_asset_check_evaluations():
        key = f"{event.asset_key.to_user_string()}.{event.check_name}"
        entry: dict[str, Any] = {"passed": event.passed}
        if not event.passed:
            entry["metadata"] = {k: _plain(v) for k, v in event.metadata.items()}
        out[key] = entry
    return out


def _plain(value: Any) -> Any:
    inner = getattr(value, "value", getattr(value, "data", getattr(value, "md_str", value)))
    try:
        json.dumps(inner)
    except TypeError:
        return str(inner)
    return inner


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, required=True, help="Folder of captures to ingest.")
    parser.add_argument("--worse", action="store_true", help="Train the candidate on shuffled labels.")
    parser.add_argument("--skip-hourly", action="store_true", help="Reuse the stored features.")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"flashmm: --data {args.data}: not a folder", file=sys.stderr)
        return 2
    resource = FlashmmResource(drop_dirs=[str(args.data.absolute())])
    settings = resource.settings()
    segments, refused = discover([args.data])
    keys = [(s.hour_key, s.market) for s in segments if s.market in settings.pipeline.markets]
    if not keys:
        print(f"flashmm: {args.data}: no capture of the markets {settings.pipeline.markets}", file=sys.stderr)
        return 1
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    name = settings.pipeline.model_name
    before = production_version(settings.database.resolved_url, name)
    hourly = [] if args.skip_hourly else run_hourly(instance, resource, hourly_ranges(keys))
    lifecycle = run_lifecycle(instance, resource, args.worse)
    after = production_version(settings.database.resolved_url, name)
    print(json.dumps({
        "partitions": sorted(f"{h}|{m}" for h, m in keys),
        "unreadable": refused,
        "hourly_runs": hourly,
        "lifecycle": lifecycle,
        "production_before": before.version if before else None,
        "production_after": after.version if after else None,
    }, indent=1, default=str))  # fmt: skip
    return 0 if lifecycle["success"] or args.worse else 1


if __name__ == "__main__":
    sys.exit(main())
