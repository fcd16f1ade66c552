"""The options every capture-reading command shares: `--market`, `--symbol`, `--exchange-info`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from flashmm_engine.venues.binance.markets import MARKETS

F = TypeVar("F", bound=Callable[..., Any])


def capture_options(command: F) -> F:
    options = [
        click.option(
            "--market",
            type=click.Choice(list(MARKETS)),
            default=None,
            help="Market of the capture; detected from its stream names if omitted.",
        ),
        click.option(
            "--symbol",
            default=None,
            help="Symbol to read (e.g. BTCUSDT); detected from the capture if omitted.",
        ),
        click.option(
            "--exchange-info",
            "exchange_info",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            default=None,
            help="exchangeInfo JSON to take the instrument spec from; inferred from the capture if omitted.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command
