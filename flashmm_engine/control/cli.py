"""`flashmm status|pause|resume|halt|flatten|cancel-all`: the control API from the command line."""

from __future__ import annotations

from pathlib import Path

import click

from flashmm_engine.cli_support import emit, start_command
from flashmm_engine.control.client import ControlClient, ControlReply, read_token_file
from flashmm_engine.errors import CommandFailed, InputError

TOKEN_FILE = click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File holding the control token (default: FLASHMM_CONTROL__TOKEN).",
)
MARKET = click.option("--market", default=None, help="Act on this market only (default: every market).")


def _client(token_file: Path | None) -> ControlClient:
    settings = start_command()
    control = settings.control
    token = read_token_file(token_file) if token_file is not None else control.token
    return ControlClient(control.host, control.port, token)


def _finish(action: str, reply: ControlReply) -> None:
    body = reply.body
    if reply.status in (401, 429):
        raise InputError(f"{action}: refused by the engine ({body.get('result', reply.status)})")
    if reply.status >= 400:
        reasons = [
            f"{market}: {answer.get('refused') or answer.get('error')}"
            for market, answer in body.get("markets", {}).items()
            if isinstance(answer, dict) and (answer.get("refused") or answer.get("error"))
        ]
        detail = "; ".join(reasons) or body.get("error") or ""
        raise CommandFailed(f"{action}: {body.get('result')} (HTTP {reply.status}) {detail}".strip())
    emit(body)


@click.command("status")
def status() -> None:
    """Print the running engine's status (JSON)."""
    client = _client(None)
    _finish("status", client.get("/status"))


def _action_command(action: str, help_text: str) -> click.Command:
    @click.command(action, help=help_text)
    @TOKEN_FILE
    @MARKET
    def command(token_file: Path | None, market: str | None) -> None:
        client = _client(token_file)
        _finish(action, client.post(action, market))

    return command


pause = _action_command("pause", "Stop quoting: working orders are cancelled at the next cycle.")
resume = _action_command("resume", "Quote again after an operator pause, halt or flatten.")
halt = _action_command("halt", "Kill switch: stop quoting and cancel every working order now.")
flatten = _action_command("flatten", "Reduce-only: quote only the side that shrinks the position.")
cancel_all = _action_command("cancel-all", "Cancel every open order of ours now (state unchanged).")
