"""The `flashmm` command line. Subcommands load lazily so `flashmm --help` stays fast (no torch import)."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Any

import click

from flashmm_engine.errors import FlashmmError

EXIT_INTERRUPTED = 130

# command path -> "module:attribute" of a click command; groups are implied by the paths.
COMMANDS: dict[str, str] = {
    "backtest": "flashmm_engine.backtest.cli:backtest",
    "venue sim": "flashmm_engine.venues.sim.cli:venue_sim",
    "replay serve": "flashmm_engine.venues.binance.replay_cli:serve",
    "replay verify-book": "flashmm_engine.venues.binance.replay_cli:verify_book",
    "replay watch": "flashmm_engine.venues.binance.replay_cli:watch",
    "bench feed": "flashmm_engine.venues.bench_cli:bench_feed",
    "bench pipeline": "flashmm_engine.bench.cli:pipeline",
    "model train": "flashmm_engine.models.cli:train",
    "model evaluate": "flashmm_engine.models.cli:evaluate",
    "model crossval": "flashmm_engine.models.cli:crossval",
    "model list": "flashmm_engine.models.registry_cli:list_models",
    "model promote": "flashmm_engine.models.registry_cli:promote",
    "model rollback": "flashmm_engine.models.registry_cli:rollback",
    "bench inference": "flashmm_engine.models.bench_cli:inference",
    "venue sei-stub": "flashmm_engine.venues.sei.stub.cli:sei_stub",
    "engine run": "flashmm_engine.engine.cli:run",
    "bench engine": "flashmm_engine.engine.cli:bench_engine",
    "status": "flashmm_engine.control.cli:status",
    "pause": "flashmm_engine.control.cli:pause",
    "resume": "flashmm_engine.control.cli:resume",
    "halt": "flashmm_engine.control.cli:halt",
    "flatten": "flashmm_engine.control.cli:flatten",
    "cancel-all": "flashmm_engine.control.cli:cancel_all",
    "chaos sim": "flashmm_engine.chaos.cli:sim",
    "soak": "flashmm_engine.engine.soak_cli:soak",
}

GROUP_HELP = {
    "replay": "Serve and check recorded exchange captures.",
    "bench": "Benchmarks; each prints one JSON object.",
    "venue": "Run a venue process (local simulated exchange, Sei stub node).",
    "model": "Train, evaluate and manage models.",
    "engine": "The live quoting engine.",
    "chaos": "Seeded fault simulation of engine, venue and ledger.",
}


class LazyGroup(click.Group):
    """A group whose children are imported only when invoked or listed in help."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self._lazy:
            module_name, attr = self._lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attr)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self._lazy[cmd_name]} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)


def _build_root() -> click.Group:
    groups: dict[str, dict[str, str]] = {}
    top: dict[str, str] = {}
    for path, target in COMMANDS.items():
        parts = path.split(" ")
        if len(parts) == 1:
            top[parts[0]] = target
        else:
            groups.setdefault(parts[0], {})[parts[1]] = target

    @click.group(cls=LazyGroup, lazy=top, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(package_name="flashmm")
    def root() -> None:
        """FlashMM: an ML-assisted market maker for order-book venues."""

    for name, children in sorted(groups.items()):
        root.add_command(LazyGroup(name=name, lazy=children, help=GROUP_HELP.get(name)))
    return root


cli = _build_root()


def _debug_requested(argv: list[str]) -> bool:
    level = os.environ.get("FLASHMM_TELEMETRY__LOG_LEVEL", "").strip().upper()
    return "--debug" in argv or level == "DEBUG"


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _usage_message(exc: click.ClickException) -> str:
    message = _one_line(exc.format_message())
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        where = "" if ctx.parent is None else f"{ctx.command_path.removeprefix('flashmm ')}: "
        return f"{where}{message} (see '{ctx.command_path} --help')"
    return message


def _fail(message: str, code: int, debug: bool) -> None:
    """Secret settings are masked in the message and the traceback (config/scrub.py)."""
    from flashmm_engine.config.scrub import scrub

    if debug:
        click.echo(scrub(traceback.format_exc()), err=True, nl=False)
    click.echo(f"flashmm: {scrub(_one_line(message))}", err=True)
    sys.exit(code)


def main() -> None:
    """Run the CLI. Every error ends as one line `flashmm: ...` on stderr and a non-zero exit code:
    2 for a bad option, file, setting or state, 1 for work that failed; tracebacks only with --debug."""
    argv = sys.argv[1:]
    debug = _debug_requested(argv)
    if "--debug" in argv:
        argv = [a for a in argv if a != "--debug"]
    try:
        code = cli.main(args=argv, prog_name="flashmm", standalone_mode=False)
    except FlashmmError as exc:
        _fail(str(exc), exc.exit_code, debug)
    except click.exceptions.NoArgsIsHelpError as exc:
        # a group called without a subcommand: its help, as with --help
        click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
        sys.exit(0)
    except click.ClickException as exc:
        _fail(_usage_message(exc), exc.exit_code, debug)
    except (click.Abort, KeyboardInterrupt):
        _fail("interrupted", EXIT_INTERRUPTED, debug)
    except Exception as exc:  # noqa: BLE001 - the last resort keeps the one-line contract for the unforeseen
        first = _one_line(str(exc).split("\n", 1)[0]) or "no message"
        _fail(f"unexpected {type(exc).__name__}: {first} (rerun with --debug for the traceback)", 1, debug)
    sys.exit(code if isinstance(code, int) else 0)
