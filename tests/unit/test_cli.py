import importlib

from click.testing import CliRunner

from flashmm_engine import cli as cli_module


def test_help_lists_groups_without_importing_heavy_modules() -> None:
    result = CliRunner().invoke(cli_module.cli, ["--help"])
    assert result.exit_code == 0
    assert "replay" in result.output


def test_every_registered_command_resolves_to_a_click_command() -> None:
    for path, target in cli_module.COMMANDS.items():
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert callable(command), path
        result = CliRunner().invoke(cli_module.cli, [*path.split(" "), "--help"])
        assert result.exit_code == 0, (path, result.output)
