"""Dev-only: batch feature throughput on a capture, median of runs, one JSON object on stdout.

    python -m tests.bench.features_throughput FILE [--runs 3]

Times `compute_features_tables` (event columns from the normalized tables, then the compiled kernel) after
one untimed warm-up call (loads the kernel's cached machine code); wall and CPU time, with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from flashmm_engine.features.batch import compute_features_tables
from flashmm_engine.features.event_columns import from_tables
from flashmm_engine.features.spec import FeatureSpec
from flashmm_engine.venues.captures import load_capture


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    tables = load_capture(args.file)
    events = len(from_tables(tables))  # one per delta, trade and top of book, one per snapshot
    spec = FeatureSpec()
    compute_features_tables(tables, spec)
    walls, cpus = [], []
    for _ in range(args.runs):
        wall, cpu = time.perf_counter(), time.process_time()
        frame = compute_features_tables(tables, spec)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    wall_s, cpu_s = statistics.median(walls), statistics.median(cpus)
    result = {
        "events": events,
        "samples": len(frame.ts),
        "seconds": round(wall_s, 4),
        "events_per_s": round(events / wall_s),
        "cpu_events_per_s": round(events / cpu_s),
        "runs_s": [round(w, 4) for w in walls],
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
