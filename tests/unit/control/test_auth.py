"""The control API's token guard: constant-time match, bearer parsing, the per-peer failure window and the
cap on remembered peers, and the token id that stands for a token in logs and the audit table."""

from __future__ import annotations

from pydantic import SecretStr

from flashmm_engine.control.auth import (
    FAILURE_WINDOW_NS,
    FAILURES_ALLOWED,
    PEERS_CAP,
    AuthResult,
    TokenGuard,
    bearer,
    token_id,
)

TOKEN = "s3cret-token-for-the-guard"


def test_bearer_parsing() -> None:
    assert bearer(f"Bearer {TOKEN}") == TOKEN
    assert bearer(f"bearer   {TOKEN} ") == TOKEN
    assert bearer(f"Basic {TOKEN}") is None
    assert bearer("Bearer ") is None and bearer(None) is None and bearer(TOKEN) is None


def test_the_token_id_is_a_short_digest_not_the_token() -> None:
    tid = token_id(TOKEN)
    assert len(tid) == 8 and tid not in TOKEN and tid == token_id(TOKEN) != token_id(TOKEN + "x")


def test_right_wrong_missing_and_unconfigured() -> None:
    guard = TokenGuard(SecretStr(TOKEN))
    assert guard.check("p", f"Bearer {TOKEN}", 0).result is AuthResult.OK
    wrong = guard.check("p", "Bearer nope", 1)
    assert wrong.result is AuthResult.WRONG and wrong.token_id == token_id("nope")
    assert guard.check("p", None, 2).result is AuthResult.MISSING
    unconfigured = TokenGuard(None).check("p", f"Bearer {TOKEN}", 0)
    assert unconfigured.result is AuthResult.NOT_CONFIGURED and not unconfigured.ok


def test_failures_limit_the_peer_until_the_window_passes() -> None:
    guard = TokenGuard(SecretStr(TOKEN))
    for i in range(FAILURES_ALLOWED):
        assert guard.check("a", "Bearer x", i).result is AuthResult.WRONG
    first = guard.check("a", f"Bearer {TOKEN}", 10)
    again = guard.check("a", f"Bearer {TOKEN}", 11)
    assert first.result is again.result is AuthResult.RATE_LIMITED
    assert first.first_limited and not again.first_limited
    assert guard.check("b", f"Bearer {TOKEN}", 12).ok, "another peer is not limited"
    assert guard.check("a", f"Bearer {TOKEN}", FAILURE_WINDOW_NS).ok, "the oldest failure left the window"


def test_remembered_peers_are_capped() -> None:
    guard = TokenGuard(SecretStr(TOKEN))
    for i in range(PEERS_CAP + 50):
        guard.check(f"peer-{i}", "Bearer x", i)
    assert guard.peers_tracked == PEERS_CAP
