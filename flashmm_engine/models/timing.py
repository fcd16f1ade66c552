"""Wall-clock time per phase of a long job, logged to stderr as each phase ends (progress for people,
and a record for the manifest of how the work scales)."""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


class PhaseTimer:
    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._start = self._last = time.perf_counter()

    def done(self, phase: str) -> float:
        now = time.perf_counter()
        elapsed = round(now - self._last, 3)
        self.phases[phase] = elapsed
        self._last = now
        log.info("%s done in %.1f s (total %.1f s)", phase, elapsed, now - self._start)
        return elapsed
