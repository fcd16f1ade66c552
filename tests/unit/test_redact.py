import pytest
from pydantic import SecretStr

from flashmm_engine.telemetry.redact import redact_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+psycopg://trader:s3cret@db:5432/flashmm",
            "postgresql+psycopg://trader:***@db:5432/flashmm",
        ),
        ("redis://:s3cret@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("redis://127.0.0.1:6379/1", "redis://127.0.0.1:6379/1"),
        ("sqlite:////var/lib/flashmm.db", "sqlite:////var/lib/flashmm.db"),
        ("http://127.0.0.1:8086/?token=s3cret&org=x", "http://127.0.0.1:8086/?token=***&org=x"),
        ("https://key:s3cret@o1.ingest.sentry.io/42", "https://key:***@o1.ingest.sentry.io/42"),
        ("s3cret-not-a-url", "***"),
    ],
)
def test_redact_url_masks_the_password_only(url: str, expected: str) -> None:
    assert redact_url(url) == expected
    assert redact_url(SecretStr(url)) == expected


def test_redact_url_of_nothing() -> None:
    assert redact_url(None) == "unset"
