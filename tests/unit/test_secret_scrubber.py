"""The scrubber behind Sentry's before_send and the InfluxDB error log: known secret values, URL passwords
and secret-named entries are masked anywhere in nested data; ordinary data passes unchanged."""

from pydantic import SecretStr

from flashmm_engine.config.sei import SeiSettings
from flashmm_engine.config.services import TelemetrySettings
from flashmm_engine.config.settings import Settings
from flashmm_engine.config.sim import SimSettings
from flashmm_engine.telemetry.redact import MASK, SecretScrubber, secret_values

DSN = "https://abcdef0123456789@o1.ingest.sentry.io/42"


def test_secret_values_walks_nested_settings_and_dicts() -> None:
    settings = Settings(
        sim=SimSettings(api_keys={"mm": SecretStr("key-one"), "mm2": SecretStr("key-two")}),
        sei=SeiSettings(mnemonic=SecretStr("word " * 11 + "last")),
        telemetry=TelemetrySettings(sentry_dsn=SecretStr(DSN), influx_token=SecretStr("tok-123")),
    )
    found = set(secret_values(settings))
    assert {"key-one", "key-two", "word " * 11 + "last", DSN, "tok-123"} <= found


def test_text_loses_every_secret_and_the_dsn_key() -> None:
    scrubber = SecretScrubber([DSN, "key-one", "abc"])
    text = scrubber.scrub_text(f"sent with key-one to {DSN}; dsn key abcdef0123456789; abc stays")
    assert "key-one" not in text and "abcdef0123456789" not in text and DSN not in text
    assert text.endswith("abc stays"), "values under 4 characters are not searched for"


def test_url_passwords_in_text_are_masked_even_when_unknown() -> None:
    scrubber = SecretScrubber([])
    assert (
        scrubber.scrub_text("redis://:hunter22@10.0.0.1:6379/0 down")
        == f"redis://:{MASK}@10.0.0.1:6379/0 down"
    )


def test_nested_data_masks_secret_named_entries_and_keeps_the_rest() -> None:
    scrubber = SecretScrubber(["s3cret-value"])
    event = {
        "message": "failed: s3cret-value",
        "extra": {"api_key": "anything", "Authorization": "Bearer x", "count": 3, "empty_token": None},
        "breadcrumbs": [{"data": {"mnemonic": "a b c"}, "message": "ok"}],
        "level": "error",
    }
    out = scrubber.scrub(event)
    assert out["message"] == f"failed: {MASK}"
    assert out["extra"] == {"api_key": MASK, "Authorization": MASK, "count": 3, "empty_token": None}
    assert out["breadcrumbs"] == [{"data": {"mnemonic": MASK}, "message": "ok"}]
    assert out["level"] == "error"
