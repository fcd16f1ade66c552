"""Secret settings are masked in log lines, tracebacks (text and JSON logs) and the CLI's error output."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from flashmm_engine.cli import _fail
from flashmm_engine.config import scrub as scrub_module
from flashmm_engine.config.scrub import register_settings, scrub_log_handlers
from flashmm_engine.config.settings import Settings
from flashmm_engine.telemetry.logs import JsonFormatter, TextFormatter

SIM_KEY = "sim-key-5e1f0a"
REDIS_PASSWORD = "redis-pw-77c2"
TOKEN = "control-token-19ab"


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setattr(scrub_module, "_registered", set())
    monkeypatch.setattr(scrub_module, "_scrubber", scrub_module.SecretScrubber(()))
    monkeypatch.setenv("FLASHMM_SIM__API_KEYS", json.dumps({"mm": SIM_KEY}))
    monkeypatch.setenv("FLASHMM_REDIS__URL", f"redis://:{REDIS_PASSWORD}@127.0.0.1:6379/3")
    monkeypatch.setenv("FLASHMM_CONTROL__TOKEN", TOKEN)
    yield Settings()


@pytest.mark.parametrize("formatter", [TextFormatter("%(message)s"), JsonFormatter()])
def test_a_traceback_that_carries_settings_is_scrubbed(
    settings: Settings, formatter: logging.Formatter
) -> None:
    register_settings(settings)
    out = io.StringIO()
    logger = logging.getLogger("test_scrub")
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    logger.handlers[:] = [handler]
    logger.propagate = False
    scrub_log_handlers(logger)
    scrub_log_handlers(logger)  # idempotent: wrapped once
    try:
        raise ConnectionError(f"cannot reach redis at {settings.redis.url.get_secret_value()}")  # type: ignore[union-attr]
    except ConnectionError:
        logger.exception("failed with token %s and %r", TOKEN, settings.sim.api_keys["mm"].get_secret_value())
    text = out.getvalue()
    assert "ConnectionError" in text and "***" in text
    for secret in (SIM_KEY, REDIS_PASSWORD, TOKEN):
        assert secret not in text


def test_cli_errors_and_debug_tracebacks_are_scrubbed(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    register_settings(settings)
    try:
        raise RuntimeError(f"bad key {SIM_KEY}")
    except RuntimeError as exc:
        with pytest.raises(SystemExit):
            _fail(str(exc), 1, debug=True)
    err = capsys.readouterr().err
    assert "Traceback" in err and "flashmm: bad key ***" in err and SIM_KEY not in err
