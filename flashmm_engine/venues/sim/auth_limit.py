"""Failed authentications to the sim venue, limited per peer address.

After `allowed` failures within `window_s` a peer's further attempts are refused unchecked until the
oldest failure leaves the window: guessing keys costs time, and a flood of bad attempts yields at most
`allowed` log lines per window. Peers are tracked up to a cap (the least recently failing is forgotten).
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

AUTH_FAILURES_ALLOWED = 5
AUTH_WINDOW_S = 60.0
PEERS_TRACKED_MAX = 10_000


class AuthLimiter:
    def __init__(
        self,
        allowed: int = AUTH_FAILURES_ALLOWED,
        window_s: float = AUTH_WINDOW_S,
        monotonic: Callable[[], float] = time.monotonic,
        peers_max: int = PEERS_TRACKED_MAX,
    ) -> None:
        self.allowed = allowed
        self.window_s = window_s
        self._monotonic = monotonic
        self._peers_max = peers_max
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self.failed_total = 0
        self.refused_total = 0

    def _recent(self, peer: str, now: float) -> deque[float]:
        times = self._failures.get(peer)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[peer]
        return times

    def retry_after(self, peer: str) -> float | None:
        """Seconds until `peer` may try again, or None when it may try now (a refusal is counted)."""
        now = self._monotonic()
        times = self._recent(peer, now)
        if len(times) < self.allowed:
            return None
        self.refused_total += 1
        return max(times[0] + self.window_s - now, 0.0)

    def failed(self, peer: str) -> int:
        """Record a failed attempt; returns the peer's failures within the window."""
        now = self._monotonic()
        times = self._recent(peer, now)
        times.append(now)
        self._failures[peer] = times
        self._failures.move_to_end(peer)
        while len(self._failures) > self._peers_max:
            self._failures.popitem(last=False)
        self.failed_total += 1
        return len(times)

    def succeeded(self, peer: str) -> None:
        self._failures.pop(peer, None)
