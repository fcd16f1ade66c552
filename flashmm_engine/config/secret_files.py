"""Secrets read from files are refused, as ssh refuses a private key, when anyone but the owner may read
or write the file (any group or other permission bit), when it is not a regular file, or when it belongs
to another user (root excepted). The mode is taken from the opened file, so a swap after the check cannot
slip an unprotected file in. No message ever contains the file's content."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pydantic import SecretStr

OTHERS_MASK = 0o077
"""Permission bits that must be clear: group and other may neither read, write nor execute."""
SECRET_FILE_MAX_BYTES = 64 * 1024


class SecretFileError(ValueError):
    """A secret file that cannot be used; the message names the file and the reason, never the content."""


def check_secret_file(fd: int, path: Path, what: str) -> None:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise SecretFileError(f"{what} {path}: not a regular file")
    if info.st_uid not in (os.getuid(), 0):
        raise SecretFileError(f"{what} {path}: owned by uid {info.st_uid}, not by this user")
    mode = stat.S_IMODE(info.st_mode)
    if mode & OTHERS_MASK:
        raise SecretFileError(
            f"{what} {path}: permissions {mode:04o} are too open (others may access it); run chmod 600 {path}"
        )


def read_secret_file(path: Path, what: str) -> SecretStr:
    """The file's text, stripped, as a secret."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        raise SecretFileError(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        check_secret_file(fd, path, what)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(SECRET_FILE_MAX_BYTES + 1)
    except OSError as exc:
        raise SecretFileError(f"cannot read {what} {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(raw) > SECRET_FILE_MAX_BYTES:
        raise SecretFileError(f"{what} {path}: larger than {SECRET_FILE_MAX_BYTES} bytes")
    try:
        return SecretStr(raw.decode().strip())
    except UnicodeDecodeError:
        raise SecretFileError(f"{what} {path}: not UTF-8 text") from None
