import pytest

from flashmm_engine.config.settings import ConfigError, Settings, load_settings


def test_defaults_bind_loopback_and_use_embedded_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLASHMM_CONTROL__HOST", raising=False)
    settings = Settings()
    assert settings.control.host == "127.0.0.1"
    assert settings.database.url.startswith("sqlite:///")
    assert settings.redis.url is None


def test_nested_env_vars_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHMM_BINANCE__MARKET", "usdm")
    monkeypatch.setenv("FLASHMM_BINANCE__WS_URLS", '["ws://127.0.0.1:1", "ws://127.0.0.1:2"]')
    settings = load_settings()
    assert settings.binance.market == "usdm"
    assert settings.binance.ws_urls == ["ws://127.0.0.1:1", "ws://127.0.0.1:2"]


def test_non_loopback_control_bind_without_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHMM_CONTROL__HOST", "0.0.0.0")
    with pytest.raises(ConfigError, match="control"):
        load_settings()


def test_non_loopback_bind_with_token_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHMM_CONTROL__HOST", "0.0.0.0")
    monkeypatch.setenv("FLASHMM_CONTROL__TOKEN", "s3cret-token-value")
    settings = load_settings()
    assert settings.control.token is not None
    assert "s3cret" not in repr(settings)


def test_invalid_value_error_names_the_key_but_not_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHMM_BINANCE__MARKET", "hunter2-secretish")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "binance.market" in str(info.value)
    assert "hunter2" not in str(info.value)
