"""Failed sim-venue authentications are limited per peer, within a sliding window, with a capped memory."""

from __future__ import annotations

from flashmm_engine.venues.sim.auth_limit import AuthLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_peer_is_refused_after_the_allowed_failures_until_the_window_passes() -> None:
    clock = FakeClock()
    limiter = AuthLimiter(allowed=3, window_s=60.0, monotonic=clock)
    for n in (1, 2, 3):
        assert limiter.retry_after("10.0.0.1") is None
        assert limiter.failed("10.0.0.1") == n
        clock.now += 1.0
    assert limiter.retry_after("10.0.0.1") == 57.0  # the first failure leaves the window at 160
    assert limiter.retry_after("10.0.0.2") is None  # another peer is not affected
    clock.now = 160.0
    assert limiter.retry_after("10.0.0.1") is None
    assert limiter.refused_total == 1 and limiter.failed_total == 3


def test_success_clears_a_peer_and_the_peer_table_is_capped() -> None:
    clock = FakeClock()
    limiter = AuthLimiter(allowed=2, window_s=60.0, monotonic=clock, peers_max=3)
    limiter.failed("a")
    limiter.succeeded("a")
    limiter.failed("a")
    assert limiter.retry_after("a") is None
    for peer in ("b", "c", "d", "e"):
        limiter.failed(peer)
        limiter.failed(peer)
    assert limiter.retry_after("e") is not None
    assert limiter.retry_after("a") is None  # forgotten: the least recently failing peer was dropped
    assert len(limiter._failures) <= 3
