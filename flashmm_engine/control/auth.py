"""Bearer-token checks for the control API: constant-time comparison, a non-secret token id for the audit
trail, and a per-peer limit on failed attempts (a capped, least-recently-used table)."""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict, deque
from dataclasses import dataclass
from enum import Enum

from pydantic import SecretStr

from flashmm_engine.types import NS_PER_S

FAILURES_ALLOWED = 5
"""Failed attempts per peer within the window before further attempts are refused unchecked."""
FAILURE_WINDOW_NS = 60 * NS_PER_S
PEERS_CAP = 1_024
"""Peers whose failures are remembered; the least recently failing is forgotten first."""
TOKEN_ID_HEX = 8


class AuthResult(Enum):
    OK = "ok"
    MISSING = "missing_token"
    WRONG = "wrong_token"
    RATE_LIMITED = "rate_limited"
    NOT_CONFIGURED = "no_token_configured"


@dataclass(frozen=True, slots=True)
class AuthDecision:
    result: AuthResult
    token_id: str | None
    """Digest prefix of the offered token (never the token); None when none was offered."""
    first_limited: bool = False
    """The first refusal of a rate-limited peer in its window: only that one is audited and logged."""

    @property
    def ok(self) -> bool:
        return self.result is AuthResult.OK


def token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:TOKEN_ID_HEX]


def bearer(header: str | None) -> str | None:
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


class TokenGuard:
    def __init__(self, token: SecretStr | None) -> None:
        self._expected = token.get_secret_value().encode() if token is not None else None
        self._failures: OrderedDict[str, deque[int]] = OrderedDict()
        self._limited_since: dict[str, int] = {}
        self.rate_limited = 0

    def check(self, peer: str, authorization: str | None, now_ns: int) -> AuthDecision:
        offered = bearer(authorization)
        offered_id = token_id(offered) if offered is not None else None
        if self._limited(peer, now_ns):
            self.rate_limited += 1
            failures = self._failures[peer]
            first = self._limited_since.get(peer) != failures[0]
            self._limited_since[peer] = failures[0]
            return AuthDecision(AuthResult.RATE_LIMITED, offered_id, first)
        if self._expected is None:
            result = AuthResult.NOT_CONFIGURED
        elif offered is None:
            result = AuthResult.MISSING
        elif hmac.compare_digest(offered.encode(), self._expected):
            return AuthDecision(AuthResult.OK, offered_id)
        else:
            result = AuthResult.WRONG
        self._fail(peer, now_ns)
        return AuthDecision(result, offered_id)

    def _limited(self, peer: str, now_ns: int) -> bool:
        failures = self._failures.get(peer)
        if failures is None:
            return False
        while failures and failures[0] <= now_ns - FAILURE_WINDOW_NS:
            failures.popleft()
        return len(failures) >= FAILURES_ALLOWED

    def _fail(self, peer: str, now_ns: int) -> None:
        failures = self._failures.pop(peer, None)
        if failures is None:
            failures = deque(maxlen=FAILURES_ALLOWED)
        failures.append(now_ns)
        self._failures[peer] = failures
        while len(self._failures) > PEERS_CAP:
            forgotten, _ = self._failures.popitem(last=False)
            self._limited_since.pop(forgotten, None)

    @property
    def peers_tracked(self) -> int:
        return len(self._failures)
