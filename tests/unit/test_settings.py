import os
from pathlib import Path

import pytest

from flashmm_engine.config.settings import ConfigError, Settings, load_settings


def test_defaults_bind_loopback_and_use_embedded_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLASHMM_CONTROL__HOST", raising=False)
    settings = Settings()
    assert settings.control.host == "127.0.0.1"
    assert settings.database.resolved_url.startswith("sqlite:///")
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
    assert "FLASHMM_BINANCE__MARKET" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_defaults_live_under_flashmm_home_as_absolute_paths(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FLASHMM_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.database.resolved_url == f"sqlite:///{tmp_path}/home/flashmm.db"
    assert settings.models.artifacts_dir == tmp_path / "home" / "models"
    assert settings.recorder.directory == tmp_path / "home" / "raw"


def test_default_home_is_the_user_data_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FLASHMM_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert load_settings().data_home == tmp_path / "xdg" / "flashmm"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert load_settings().data_home == tmp_path / "user" / ".local" / "share" / "flashmm"


def test_defaults_do_not_move_with_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FLASHMM_HOME", "relative-home")  # resolved once, against the cwd at start
    monkeypatch.chdir(tmp_path)
    first = load_settings()
    assert first.data_home == tmp_path / "relative-home"
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.setenv("FLASHMM_HOME", str(first.data_home))
    monkeypatch.chdir(tmp_path / "elsewhere")
    second = load_settings()
    assert second.database.resolved_url == first.database.resolved_url
    assert second.models.artifacts_dir == first.models.artifacts_dir


def test_explicit_relative_paths_are_made_absolute_against_the_start_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLASHMM_DATABASE__URL", "sqlite:///var/x.db")
    monkeypatch.setenv("FLASHMM_MODELS__ARTIFACTS_DIR", "arts")
    monkeypatch.setenv("FLASHMM_RECORDER__DIRECTORY", "raw-here")
    settings = load_settings()
    assert settings.database.resolved_url == f"sqlite:///{tmp_path}/var/x.db"
    assert settings.models.artifacts_dir == tmp_path / "arts"
    assert settings.recorder.directory == tmp_path / "raw-here"


def test_the_test_session_never_uses_the_users_home() -> None:
    home = load_settings().data_home
    assert home == Path(os.environ["FLASHMM_HOME"]) and "flashmm-test-home-" in str(home)


@pytest.mark.parametrize(
    ("env", "value", "expected"),
    [
        ("FLASHMM_SIM__API_KEYS", "notjson", "FLASHMM_SIM__API_KEYS: not valid JSON"),
        ("FLASHMM_TELEMETRY__LOG_LEVEL", "LOUD", "FLASHMM_TELEMETRY__LOG_LEVEL: unknown log level"),
        ("FLASHMM_DATABASE__URL", "notaurl", "FLASHMM_DATABASE__URL: not a SQL store URL"),
        ("FLASHMM_REDIS__URL", "http://x:secretpw@h", "FLASHMM_REDIS__URL: not a Redis URL"),
        ("FLASHMM_TELEMETRY__INFLUX_URL", "influx", "FLASHMM_TELEMETRY__INFLUX_URL: not an InfluxDB URL"),
        ("FLASHMM_SIM__PORT", "99999", "FLASHMM_SIM__PORT: Input should be less than or equal to 65535"),
    ],
)
def test_bad_settings_give_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert expected in message and "\n" not in message
    assert "secretpw" not in message


def test_log_level_is_normalized(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHMM_TELEMETRY__LOG_LEVEL", "debug")
    assert load_settings().telemetry.log_level == "DEBUG"


def test_urls_that_can_hold_passwords_are_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHMM_DATABASE__URL", "postgresql+psycopg://u:dbpw1@127.0.0.1/db")
    monkeypatch.setenv("FLASHMM_REDIS__URL", "redis://:redispw2@127.0.0.1:6379/0")
    monkeypatch.setenv("FLASHMM_TELEMETRY__INFLUX_URL", "http://u:influxpw3@127.0.0.1:8086")
    settings = load_settings()
    for secret in ("dbpw1", "redispw2", "influxpw3"):
        assert secret not in repr(settings) and secret not in str(settings.model_dump())
    assert settings.database.resolved_url.endswith("u:dbpw1@127.0.0.1/db")
