"""Sentry through the real sentry-sdk to a loopback stand-in for Sentry's ingest endpoint: ERROR logs,
exceptions and model refusals arrive as envelopes, with every configured secret, the DSN and its key masked
by the `before_send`/`before_breadcrumb` scrubber."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from flashmm_engine.telemetry.redact import MASK, SecretScrubber
from flashmm_engine.telemetry.sentry import SentryReporter
from tests.integration.telemetry_support import SentryIngest, sentry_ingest, wait_until

PUBLIC_KEY = "0123456789abcdef0123456789abcdef"
API_KEY = "sim-api-key-9d8c7b6a"
MNEMONIC = "abandon ability able about above absent absorb abstract absurd abuse access accident"
WAIT_S = 20.0

log = logging.getLogger("flashmm_engine.test_sentry")


@pytest.fixture
def no_sentry_afterwards() -> Iterator[None]:
    yield
    import sentry_sdk

    sentry_sdk.get_client().close()
    sentry_sdk.init()  # an inactive client: later tests send nothing


def leaked(ingest: SentryIngest, secrets: list[str]) -> list[str]:
    body = b"".join(ingest.bodies)
    return [s for s in secrets if s.encode() in body]


@pytest.mark.usefixtures("no_sentry_afterwards")
async def test_errors_and_refusals_reach_sentry_with_every_secret_masked() -> None:
    async with sentry_ingest("42") as (base_url, ingest):
        host = base_url.removeprefix("http://")
        dsn = f"http://{PUBLIC_KEY}@{host}/42"
        secrets = [API_KEY, MNEMONIC, dsn, PUBLIC_KEY]
        reporter = SentryReporter(SecretStr(dsn), SecretScrubber(secrets), "test", "0.0.0")
        log.warning("connecting with key %s", API_KEY)  # a breadcrumb
        log.error("venue refused key %s (dsn %s)", API_KEY, dsn)
        try:
            raise RuntimeError(f"signer failed for mnemonic {MNEMONIC}")
        except RuntimeError as exc:
            reporter.capture_exception(exc)
        logging.getLogger("flashmm_engine.engine.reload.swap").error(
            "model m/v7 refused (ProbeError: probe output has NaN, key %s); still serving v6", API_KEY
        )
        await asyncio.to_thread(reporter.close)
        await wait_until(lambda: len(ingest.events()) >= 3, WAIT_S, "three events")
    events = ingest.events()
    texts = [str(e) for e in events]
    print(f"\nsentry: {len(ingest.bodies)} envelopes, {len(events)} events, counted {reporter.events_sent}")
    assert reporter.events_sent == 3
    assert any("venue refused key" in t for t in texts)
    assert any("signer failed for mnemonic" in t for t in texts)
    assert any("model m/v7 refused" in t and "flashmm_engine.engine.reload.swap" in t for t in texts)
    assert any(MASK in t for t in texts)
    assert all(PUBLIC_KEY in header for header in ingest.auth_headers), "the SDK authenticates by header"
    assert leaked(ingest, secrets) == []
