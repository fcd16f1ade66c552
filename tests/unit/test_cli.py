import importlib
import json
import subprocess
import sys

from click.testing import CliRunner

from flashmm_engine import cli as cli_module

HEAVY = ("torch", "dagster", "hftbacktest")
"""Packages `flashmm --help` must not import (seconds of start-up; dagster is no engine dependency)."""

# a fresh interpreter runs the real entry point, then reports which top-level packages got imported
_PROBE = """
import json, sys
from flashmm_engine import cli
sys.argv = ["flashmm", "--help"]
try:
    cli.main()
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def test_help_lists_groups_without_importing_heavy_modules() -> None:
    result = CliRunner().invoke(cli_module.cli, ["--help"])
    assert result.exit_code == 0
    assert "replay" in result.output
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    report = json.loads(probe.stdout.strip().splitlines()[-1])
    assert report["code"] in (0, None) and "flashmm_engine" in report["modules"]
    assert [m for m in HEAVY if m in report["modules"]] == []


def test_every_registered_command_resolves_to_a_click_command() -> None:
    for path, target in cli_module.COMMANDS.items():
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert callable(command), path
        result = CliRunner().invoke(cli_module.cli, [*path.split(" "), "--help"])
        assert result.exit_code == 0, (path, result.output)
