"""Copies of a capture moved to consecutive UTC hours (every line's receive time shifted by whole hours;
the venue's own timestamps inside the messages are left as recorded), for timing hourly backfills:

    python scripts/synthetic_hours.py CAPTURE OUT_DIR --hours 24
"""

import argparse
import gzip
from pathlib import Path

NS_PER_HOUR = 3_600 * 1_000_000_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("capture", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--hours", type=int, default=24)
    args = parser.parse_args()
    lines = gzip.decompress(args.capture.read_bytes()).splitlines()
    first = int(lines[0].split(b" ", 1)[0])
    start_hour = first // NS_PER_HOUR
    args.out_dir.mkdir(parents=True, exist_ok=True)
    stem = args.capture.name.split(".")[0]
    for k in range(args.hours):
        shift = (k - (start_hour % 24)) * NS_PER_HOUR  # hour k of the capture's UTC day
        pairs = (line.split(b" ", 1) for line in lines)
        shifted = [b"%d %s" % (int(stamp) + shift, raw) for stamp, raw in pairs]
        (args.out_dir / f"{stem}_h{k:02d}.raw.gz").write_bytes(gzip.compress(b"\n".join(shifted) + b"\n", 6))


if __name__ == "__main__":
    main()
