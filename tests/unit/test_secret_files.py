"""Secret files are refused as ssh refuses an unprotected private key, and no error shows their content."""

from __future__ import annotations

from pathlib import Path

import pytest

from flashmm_engine.config.secret_files import SecretFileError, read_secret_file
from flashmm_engine.config.sei import SeiSettings
from flashmm_engine.engine.cli import settings_from
from flashmm_engine.errors import InputError
from flashmm_engine.venues.sei.signing import SeiKeyError, load_key_secret

SECRET = "abandon-this-secret-0123456789"


def secret_file(tmp_path: Path, mode: int, text: str = SECRET) -> Path:
    path = tmp_path / "secret"
    path.write_text(text + "\n")
    path.chmod(mode)
    return path


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_owner_only_files_are_read(tmp_path: Path, mode: int) -> None:
    assert read_secret_file(secret_file(tmp_path, mode), "key file").get_secret_value() == SECRET


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620, 0o602, 0o660])
def test_files_others_may_access_are_refused(tmp_path: Path, mode: int) -> None:
    path = secret_file(tmp_path, mode)
    with pytest.raises(SecretFileError, match=f"permissions {mode:04o} are too open") as err:
        read_secret_file(path, "key file")
    assert SECRET not in str(err.value) and "chmod 600" in str(err.value)


def test_directories_and_missing_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir(mode=0o700)
    with pytest.raises(SecretFileError, match="not a regular file"):
        read_secret_file(tmp_path / "dir", "key file")
    with pytest.raises(SecretFileError, match="cannot read key file"):
        read_secret_file(tmp_path / "missing", "key file")


def test_sei_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = secret_file(tmp_path, 0o644)
    with pytest.raises(SeiKeyError, match="too open") as err:
        load_key_secret(SeiSettings(key_file=path))
    assert SECRET not in str(err.value)
    path.chmod(0o600)
    assert load_key_secret(SeiSettings(key_file=path)).get_secret_value() == SECRET


def test_engine_config_file_readable_by_others_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASHMM_CONTROL__PORT", "0")  # restored (unset) after the test
    monkeypatch.delenv("FLASHMM_CONTROL__PORT")
    path = secret_file(tmp_path, 0o644, text="FLASHMM_CONTROL__PORT=18123")
    with pytest.raises(InputError, match="too open"):
        settings_from(path)
    path.chmod(0o600)
    assert settings_from(path).control.port == 18123
