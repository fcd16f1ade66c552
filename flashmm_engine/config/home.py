"""FLASHMM_HOME: the one data directory holding the default SQL store, model artifacts and raw data.

Defaults never depend on the working directory: FLASHMM_HOME defaults to the user's data directory
(`$XDG_DATA_HOME/flashmm`, else `~/.local/share/flashmm`), and relative paths the user gives are made
absolute against the directory the process started in.
"""

from __future__ import annotations

import os
from pathlib import Path

from flashmm_engine.errors import InputError

APP_DIR = "flashmm"
DB_FILE = "flashmm.db"
MODELS_DIR = "models"
RAW_DIR = "raw"
PIPELINE_DIR = "pipeline"


def default_home() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / APP_DIR


def absolute(path: Path) -> Path:
    """`path` with `~` expanded and made absolute against the current directory (no symlinks resolved)."""
    return Path(os.path.abspath(path.expanduser()))


def ensure_dir(path: Path, what: str, hint: str | None = None) -> Path:
    """Create `path` (and parents) or stop with one clear line naming it, and what to do if `hint`."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"cannot create {what} {path}: {reason}" + (f" ({hint})" if hint else "")) from None
    return path


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"
