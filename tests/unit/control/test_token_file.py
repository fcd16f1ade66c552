"""`--token-file`: the control token is read only from a file its owner alone may access."""

from pathlib import Path

import pytest

from flashmm_engine.control.client import read_token_file
from flashmm_engine.errors import InputError


def test_an_owner_only_token_file_is_read_stripped(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("tok-0123456789\n")
    path.chmod(0o600)
    assert read_token_file(path).get_secret_value() == "tok-0123456789"


@pytest.mark.parametrize("mode", [0o640, 0o604])
def test_a_token_file_others_may_read_is_refused_without_showing_the_token(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "token"
    path.write_text("tok-0123456789\n")
    path.chmod(mode)
    with pytest.raises(InputError, match="--token-file") as refused:
        read_token_file(path)
    assert "tok-0123456789" not in str(refused.value)


def test_an_empty_token_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("\n")
    path.chmod(0o600)
    with pytest.raises(InputError, match="empty"):
        read_token_file(path)
