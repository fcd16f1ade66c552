"""Counting bad input: every malformed message is counted, and logged at most once a minute per kind."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

BAD_INPUT_LOG_INTERVAL_S = 60.0


class BadInputCounter:
    """Counts rejected inputs by kind and rate-limits the log lines about them.

    A flood of malformed messages must not become a flood of log lines, yet none may go uncounted.
    """

    def __init__(
        self,
        logger: logging.Logger,
        interval_s: float = BAD_INPUT_LOG_INTERVAL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._interval = interval_s
        self._monotonic = monotonic
        self._last_logged: dict[str, float] = {}
        self.counts: Counter[str] = Counter()

    def record(self, kind: str, detail: str) -> None:
        self.counts[kind] += 1
        now = self._monotonic()
        last = self._last_logged.get(kind)
        if last is None or now - last >= self._interval:
            self._last_logged[kind] = now
            self._log.warning("bad input (%s), %d so far: %s", kind, self.counts[kind], detail[:200])

    @property
    def total(self) -> int:
        return sum(self.counts.values())
