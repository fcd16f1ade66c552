"""Fuzzing settings from the environment: any FLASHMM_* values either load or fail with one ConfigError
naming the bad keys, which never echoes a value (values may be secrets)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import given
from hypothesis import strategies as st

from flashmm_engine.config.settings import ConfigError, Settings, load_settings
from tests.fuzz.strategies import FUZZ, JSON, NUMBER_STRINGS


def _env_names() -> tuple[list[str], set[str]]:
    """Every section's env names, and those of the secret settings among them."""
    names, secret = [], set()
    for section, info in Settings.model_fields.items():
        fields = getattr(info.annotation, "model_fields", None)
        if fields is None:
            continue  # FLASHMM_HOME: the test home stays put
        for name, field in fields.items():
            env = f"FLASHMM_{section.upper()}__{name.upper()}"
            names.append(env)
            if "SecretStr" in str(field.annotation):
                secret.add(env)
    return names, secret


KNOWN, SECRET_NAMES = _env_names()
NAMES = [*KNOWN, "FLASHMM_NOPE", "FLASHMM_RISK__NOPE", "FLASHMM_ENGINE"]
MARKER = "zqx"
"""A secret setting's value carrying it must not appear in the error (other values may coincide with
message text, and a host or a number is no secret)."""
VALUES = st.one_of(
    NUMBER_STRINGS,
    st.sampled_from(["true", "false", "null", "{}", "[]", "{", "sqlite://", "redis://:pw@h:1/0", "-5"]),
    JSON.map(json.dumps),
    st.text(min_size=6, max_size=20).map(lambda t: MARKER + t.replace("\x00", "")),
)
ENV = st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=4)


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: v for k, v in os.environ.items() if k.startswith("FLASHMM_") and k != "FLASHMM_HOME"}
    for key in saved:
        del os.environ[key]
    os.environ.update(values)
    try:
        yield
    finally:
        for key in values:
            del os.environ[key]
        os.environ.update(saved)


@FUZZ
@given(env=ENV)
def test_any_environment_loads_or_fails_with_one_clear_error(env: dict[str, str]) -> None:
    with environment(env):
        try:
            settings = load_settings()
        except ConfigError as exc:
            message = str(exc)
            assert message.startswith("invalid FlashMM settings") and "\n" not in message.strip()
            # the same value given to a plain setting may be echoed for that one: only secrets are checked
            plain = {value for name, value in env.items() if name not in SECRET_NAMES}
            for name, value in env.items():
                if name in SECRET_NAMES and value.startswith(MARKER) and value not in plain:
                    assert value not in message
            return
    assert isinstance(settings, Settings)
