"""Load a candidate off the event loop with every check, then swap it in between two quote cycles.

The swap is one synchronous step on the event loop (`on_swap`): a market's cycle computes its features,
prediction and quotes without awaiting in between, so no cycle ever sees half of a swap. A candidate that
fails any check is refused: the current model keeps trading, the refusal is counted, logged and recorded
as a `model_refused` engine event, and the same (version, sha256) is not tried again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flashmm_engine.engine.reload.types import Candidate, Refusal
from flashmm_engine.models.loader import (
    ArtifactLoadError,
    LatencyCheck,
    LoadedModel,
    ManifestError,
    ModelRefused,
    load_model,
)
from flashmm_engine.strategy.prediction import ModelPredictor

log = logging.getLogger(__name__)

REFUSED_CAP = 64
"""Refused (version, sha256) pairs remembered so the poll does not retry them; oldest forgotten first."""

RecordEvent = Callable[[str, dict[str, Any]], None]
"""(kind, detail) -> an engine event in the ledger."""


def checked_load(candidate: Candidate, spec_hash: str, latency: LatencyCheck | None) -> LoadedModel:
    """Every check of models/loader.py plus the registry's sha256 and a predictor built from the
    manifest (a missing label spec is a refusal here, not an error in the first cycle)."""
    try:
        loaded = load_model(Path(candidate.path), spec_hash, candidate.sha256, latency)
    except OSError as exc:
        raise ArtifactLoadError(f"{candidate.path}: unreadable ({exc})") from exc
    if loaded.manifest.get("name", candidate.name) != candidate.name or loaded.version != candidate.version:
        raise ManifestError(
            f"{candidate.path}: manifest is {loaded.manifest.get('name')}/{loaded.version}, "
            f"registry says {candidate.name}/{candidate.version}"
        )
    try:
        ModelPredictor.from_loaded(loaded)
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestError(f"{candidate.path}: manifest cannot drive a predictor ({exc!r})") from exc
    return loaded


class ModelSwapper:
    def __init__(
        self,
        name: str,
        spec_hash: str,
        latency: LatencyCheck | None,
        record: RecordEvent,
        on_swap: Callable[[LoadedModel], None],
    ) -> None:
        self.name = name
        self.spec_hash = spec_hash
        self.latency = latency
        self._record = record
        self._on_swap = on_swap
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-load")
        self._lock = asyncio.Lock()
        self._refused: OrderedDict[tuple[str, str], Refusal] = OrderedDict()
        self.current: LoadedModel | None = None
        self.current_sha256: str | None = None
        self.loaded_at_ns: int | None = None
        self.source: str | None = None
        self.reloads = 0
        self.refusals = 0
        self.refusals_by_reason: Counter[str] = Counter()
        self.last_refusal: Refusal | None = None

    def serving(self, candidate: Candidate) -> bool:
        return (
            self.current is not None
            and self.current.version == candidate.version
            and self.current_sha256 == candidate.sha256
        )

    async def ensure(self, candidate: Candidate, source: str) -> bool:
        """Serve `candidate` unless it already is, or was refused before; True when it was swapped in."""
        if candidate.name != self.name:
            return False
        async with self._lock:
            if self.serving(candidate) or (candidate.version, candidate.sha256) in self._refused:
                return False
            started = time.monotonic()
            loop = asyncio.get_running_loop()
            try:
                loaded = await loop.run_in_executor(
                    self._executor, checked_load, candidate, self.spec_hash, self.latency
                )
            except ModelRefused as exc:
                self._refuse(candidate, source, exc)
                return False
            previous = self.current.version if self.current is not None else None
            self.current, self.current_sha256 = loaded, candidate.sha256
            self.loaded_at_ns, self.source = time.time_ns(), source
            self._on_swap(loaded)
            self.reloads += 1
        load_ms = round((time.monotonic() - started) * 1000, 1)
        log.info(
            "model %s: now serving %s (was %s, via %s, %s ms)",
            self.name,
            loaded.version,
            previous,
            source,
            load_ms,
        )
        self._record(
            "model_swapped",
            {
                "name": self.name,
                "version": loaded.version,
                "previous": previous,
                "source": source,
                "load_ms": load_ms,
            },
        )
        return True

    def _refuse(self, candidate: Candidate, source: str, exc: ModelRefused) -> None:
        refusal = Refusal(
            candidate.version, candidate.sha256, type(exc).__name__, str(exc), source, time.time_ns()
        )
        self._refused[(candidate.version, candidate.sha256)] = refusal
        while len(self._refused) > REFUSED_CAP:
            self._refused.popitem(last=False)
        self.refusals += 1
        self.refusals_by_reason[refusal.reason] += 1
        self.last_refusal = refusal
        serving = self.current.version if self.current is not None else None
        log.error(
            "model %s/%s refused (%s: %s); still serving %s",
            self.name,
            candidate.version,
            refusal.reason,
            refusal.message,
            serving,
        )
        self._record(
            "model_refused",
            {
                "name": self.name,
                "version": candidate.version,
                "sha256": candidate.sha256,
                "reason": refusal.reason,
                "message": refusal.message,
                "source": source,
                "serving": serving,
            },
        )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
