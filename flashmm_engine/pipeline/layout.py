"""Where the lifecycle keeps its data under `pipeline.root`: one folder per (stage, market, hour)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flashmm_engine.pipeline.segments import HOUR_FORMAT, parse_hour_key


@dataclass(frozen=True, slots=True)
class Layout:
    root: Path

    def events(self, market: str, hour_key: str) -> Path:
        return self.root / "events" / market / _hour(hour_key)

    def features(self, market: str, hour_key: str) -> Path:
        return self.root / "features" / market / _hour(hour_key)

    def raw_manifest(self, market: str, hour_key: str) -> Path:
        return self.root / "raw_segments" / market / f"{_hour(hour_key)}.json"

    @property
    def training_set(self) -> Path:
        return self.root / "training_set"

    @property
    def candidate(self) -> Path:
        return self.root / "candidate.json"

    @property
    def validation(self) -> Path:
        return self.root / "validation"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def alerts(self) -> Path:
        return self.root / "alerts" / "run_failures.jsonl"

    def feature_hours(self, market: str) -> list[str]:
        """Hours with stored features for the market, oldest first, as partition keys."""
        base = self.root / "features" / market
        if not base.is_dir():
            return []
        hours = sorted(p.name for p in base.iterdir() if (p / FEATURES_FILE).is_file())
        return [datetime.strptime(h, HOUR_FORMAT).strftime("%Y-%m-%d-%H:%M") for h in hours]


FEATURES_FILE = "features.parquet"
MIDS_FILE = "mids.parquet"
FRAME_META_FILE = "frame.json"


def _hour(hour_key: str) -> str:
    return parse_hour_key(hour_key).strftime(HOUR_FORMAT)
