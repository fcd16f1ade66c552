"""Sentry error reporting, when `FLASHMM_TELEMETRY__SENTRY_DSN` is set: ERROR logs become events (alerts,
failed writes, uncaught task errors, and refused models: hot reload logs each refusal at ERROR), WARNING
and INFO logs breadcrumbs; each event names its logger, so refusals can be routed by
`logger:flashmm_engine.engine.reload.*`.

Every event and breadcrumb goes through `before_send`/`before_breadcrumb`, which mask every configured
secret (API keys, mnemonic, tokens, passwords in URLs, the DSN and its key) and every entry whose name says
it is one. Only the DSN's host is contacted: no auto-enabled integrations, no tracing, no local variables,
no request bodies, no personal data.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import SecretStr

from flashmm_engine.telemetry.redact import SecretScrubber, redact_url

log = logging.getLogger(__name__)

SHUTDOWN_FLUSH_S = 2.0
"""How long closing waits for queued events to reach Sentry."""
EVENT_LOG_LEVEL = logging.ERROR
BREADCRUMB_LOG_LEVEL = logging.INFO


class SentryReporter:
    """Owns the sentry-sdk client; its counters are read by status and metrics."""

    def __init__(self, dsn: SecretStr, scrubber: SecretScrubber, environment: str, release: str) -> None:
        import sentry_sdk
        from sentry_sdk.integrations.logging import LoggingIntegration

        self._scrubber = scrubber
        self.events_sent = 0
        self.breadcrumbs = 0
        self.dsn_host = redact_url(dsn).split("@")[-1].split("/")[0]
        sentry_sdk.init(
            dsn=dsn.get_secret_value(),
            environment=environment,
            release=release,
            default_integrations=False,
            auto_enabling_integrations=False,
            integrations=[
                LoggingIntegration(level=BREADCRUMB_LOG_LEVEL, event_level=EVENT_LOG_LEVEL),
            ],
            before_send=self._before_send,
            before_breadcrumb=self._before_breadcrumb,
            include_local_variables=False,
            max_request_body_size="never",
            traces_sample_rate=None,
            send_client_reports=False,
        )
        log.info("Sentry error reporting to %s", self.dsn_host)

    def _before_send(self, event: Any, hint: Any) -> Any:
        scrubbed = self._scrubber.scrub(event)
        self.events_sent += 1
        return scrubbed

    def _before_breadcrumb(self, crumb: Any, hint: Any) -> Any:
        self.breadcrumbs += 1
        return self._scrubber.scrub(crumb)

    def capture_exception(self, exc: BaseException) -> None:
        import sentry_sdk

        sentry_sdk.capture_exception(exc)

    def close(self) -> None:
        import sentry_sdk

        client = sentry_sdk.get_client()
        client.flush(timeout=SHUTDOWN_FLUSH_S)
        client.close(timeout=SHUTDOWN_FLUSH_S)

    def status(self) -> dict[str, object]:
        return {
            "host": self.dsn_host,
            "events_sent": self.events_sent,
        }
