"""Model artifact files: models/<name>/<version>/model.pt (TorchScript) and manifest.json."""

from __future__ import annotations

import hashlib
import importlib.metadata
import subprocess
from pathlib import Path
from typing import Any

import orjson

import flashmm_engine

MODEL_FILE = "model.pt"
MANIFEST_FILE = "manifest.json"
GIT_TIMEOUT_S = 2.0
HASH_CHUNK_BYTES = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def code_version() -> str:
    """flashmm_engine.__version__, plus the git commit when running from a checkout."""
    # an editable install can expose the package as a namespace (no __init__ attributes): fall back
    version = str(getattr(flashmm_engine, "__version__", "") or importlib.metadata.version("flashmm"))
    repo = Path(__file__).resolve().parents[2]
    try:
        result = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return version
    sha = result.stdout.strip()
    return f"{version}+g{sha}" if result.returncode == 0 and sha else version


def write_manifest(model_dir: Path, manifest: dict[str, Any]) -> Path:
    path = model_dir / MANIFEST_FILE
    path.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    return path


def read_manifest(model_dir: Path) -> dict[str, Any]:
    data = orjson.loads((model_dir / MANIFEST_FILE).read_bytes())
    if not isinstance(data, dict):
        raise ValueError("manifest.json is not a JSON object")
    return data
