"""`python -m flashmm_dagster.runner`: materialize the whole graph on a folder of captures, through Dagster
(a real instance: `$DAGSTER_HOME`, or a temporary one), one run per market for the hourly stages.

    python -m flashmm_dagster.runner --data /work/shared/data/binance            # ends with a promoted model
    python -m flashmm_dagster.runner --data /work/shared/data/binance --worse    # shuffled-label candidate

Progress goes to stderr, one line per stage; the result is one JSON object on stdout: partitions, run ids,
check outcomes, the gate, and production before and after. `--data` may be the engine recorder's directory
(its `<venue>/` folders are searched too). Exit 2: `--data` is not a folder or holds no capture of the
configured markets (the message names what it found); 1: a run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flashmm_engine.config.settings import load_settings
from flashmm_engine.pipeline.segments import Segment, discover, with_venue_folders

if TYPE_CHECKING:  # Dagster and the definitions load only once --data is known to hold captures
    import dagster as dg

    from flashmm_dagster.resources import FlashmmResource

HOURLY = ("raw_segments", "market_events", "features")
LIFECYCLE = ("training_set", "candidate_model", "model_validation", "exported_model", "production_model")


def hourly_ranges(keys: Sequence[tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """Per market, the first and last hour to materialize (a range: one run covers it)."""
    out: dict[str, tuple[str, str]] = {}
    for hour, market in sorted(keys):
        first, _ = out.get(market, (hour, hour))
        out[market] = (first, hour)
    return out


def progress(message: str) -> None:
    print(f"flashmm: {message}", file=sys.stderr, flush=True)


def check_summary(checks: dict[str, Any]) -> str:
    failed = sorted(k for k, v in checks.items() if not v["passed"])
    passed = f"checks {len(checks) - len(failed)}/{len(checks)} passed"
    return f"{passed}, failed: {failed}" if failed else passed


def run_hourly(
    instance: dg.DagsterInstance, resource: FlashmmResource, ranges: dict[str, tuple[str, str]]
) -> list[dict[str, Any]]:
    import dagster as dg
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from flashmm_dagster.definitions import ASSETS
    from flashmm_dagster.partitions import partition_key

    runs = []
    for market, (first, last) in ranges.items():
        progress(f"ingest + features {market} {first} .. {last} ...")
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
        seconds, checks = round(time.perf_counter() - started, 2), _checks(result)
        runs.append({"market": market, "from": first, "to": last, "run_id": result.run_id,
                     "success": result.success, "seconds": seconds, "checks": checks})  # fmt: skip
        state = "done" if result.success else "FAILED"
        progress(f"ingest + features {market}: {state} in {seconds} s, {check_summary(checks)}")
    return runs


def run_lifecycle(instance: dg.DagsterInstance, resource: FlashmmResource, worse: bool) -> dict[str, Any]:
    import dagster as dg

    from flashmm_dagster.definitions import ASSETS

    config = {"ops": {"candidate_model": {"config": {"shuffle_labels_seed": 1 if worse else None}}}}
    progress("training set -> candidate -> validation -> export -> promotion ...")
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
    checks = _checks(result)
    state = "done" if result.success else "FAILED (production unchanged)"
    progress(f"lifecycle: {state} in {seconds} s, materialized {materialized}, {check_summary(checks)}")
    return {"run_id": result.run_id, "success": result.success, "seconds": seconds,
            "materialized": materialized, "checks": checks}  # fmt: skip


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
    parser.add_argument("--hourly-only", action="store_true", help="Only ingest + features (a backfill).")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        what = "does not exist" if not args.data.exists() else "is not a folder"
        progress(f"--data {args.data} {what}: give the folder holding the captures")
        return 2
    folders = with_venue_folders(args.data.absolute())
    markets = load_settings().pipeline.markets
    segments, refused = discover(folders)
    for path, reason in refused.items():
        progress(f"skipping unreadable capture {path}: {reason}")
    keys = [(s.hour_key, s.market) for s in segments if s.market in markets]
    if not keys:
        progress(no_captures(args.data, segments, markets))
        return 2
    progress(f"{len(keys)} partitions of {sorted({m for _, m in keys})} in {args.data}")
    return run_all(args, folders, keys, refused)


def run_all(
    args: argparse.Namespace, folders: list[Path], keys: list[tuple[str, str]], refused: dict[str, str]
) -> int:

    from flashmm_dagster.resources import FlashmmResource
    from flashmm_engine.pipeline.promotion import production_version

    resource = FlashmmResource(drop_dirs=[str(f) for f in folders])
    settings = resource.settings()
    instance = _instance()
    name = settings.pipeline.model_name
    before = production_version(settings.database.resolved_url, name)
    hourly = [] if args.skip_hourly else run_hourly(instance, resource, hourly_ranges(keys))
    lifecycle = (
        {"success": True, "skipped": True}
        if args.hourly_only
        else run_lifecycle(instance, resource, args.worse)
    )
    after = production_version(settings.database.resolved_url, name)
    print(json.dumps({
        "partitions": sorted(f"{h}|{m}" for h, m in keys),
        "unreadable": refused,
        "hourly_runs": hourly,
        "lifecycle": lifecycle,
        "hourly_seconds": round(sum(r["seconds"] for r in hourly), 2),
        "hourly_partitions": len(keys),
        "production_before": before.version if before else None,
        "production_after": after.version if after else None,
    }, indent=1, default=str))  # fmt: skip
    return 0 if lifecycle["success"] or args.worse else 1


def no_captures(data: Path, segments: list[Segment], markets: Sequence[str]) -> str:
    found = sorted({s.market for s in segments})
    if not found:
        return f"--data {data}: no capture (*.raw.gz, *.raw) in it or its folders"
    return (
        f"--data {data}: captures of {found}, none of the configured markets {list(markets)} "
        "(FLASHMM_PIPELINE__MARKETS)"
    )


def _instance() -> Any:
    """The instance under $DAGSTER_HOME (created if missing, as `make` names one that a fresh clone lacks),
    else an ephemeral one."""
    import dagster as dg

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return dg.DagsterInstance.ephemeral()
    Path(home).mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.get()


if __name__ == "__main__":
    sys.exit(main())
