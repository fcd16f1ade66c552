"""Errors that end a `flashmm` command with one clear line on stderr and a defined exit code.

Raise `InputError` for a bad argument, file, setting or state the user can fix (exit 2), and
`CommandFailed` when the work ran but failed or produced nothing (exit 1). The CLI entry point turns
either into one line without a traceback, unless `--debug` or a DEBUG log level asks for it.
"""

from __future__ import annotations

import click

EXIT_FAILED = 1
EXIT_INPUT = 2


class FlashmmError(click.ClickException):
    """Base of the errors the CLI reports as one line; `exit_code` is what the process exits with.

    A click exception, so a command invoked by click's own runner (tests' CliRunner included) reports it
    with its exit code too."""

    exit_code = EXIT_FAILED


class InputError(FlashmmError):
    """The input is unusable as given: a bad option, capture, setting or state. Exit code 2."""

    exit_code = EXIT_INPUT


class CommandFailed(FlashmmError):
    """The command ran but failed, or produced nothing (0 messages read, unwritable output). Exit code 1."""

    exit_code = EXIT_FAILED
