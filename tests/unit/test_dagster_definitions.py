"""The Dagster code location that `workspace.yaml` names is `flashmm_dagster.definitions.defs`, and Dagster's
own loader (`dagster definitions validate -w workspace.yaml`) loads and validates it."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import yaml

import flashmm_dagster.definitions

ROOT = Path(__file__).resolve().parents[2]
VALIDATE_TIMEOUT_S = 180


def test_workspace_names_the_definitions_module() -> None:
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    (location,) = workspace["load_from"]
    module = importlib.import_module(location["python_module"]["module_name"])
    found = [value for value in vars(module).values() if isinstance(value, dg.Definitions)]
    assert found == [flashmm_dagster.definitions.defs]
    dg.Definitions.validate_loadable(found[0])


def test_dagster_loads_and_validates_the_workspace(tmp_path: Path) -> None:
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=ROOT,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=VALIDATE_TIMEOUT_S,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-2000:]
    assert "Validation successful for code location flashmm_dagster.definitions" in output
