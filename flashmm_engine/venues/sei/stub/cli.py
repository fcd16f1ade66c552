"""`flashmm venue sei-stub`: run the local Sei stub node on 127.0.0.1 until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import re
import sys
from decimal import Decimal
from typing import Any

import click
import orjson

from flashmm_engine.cli_support import DECIMAL, PORT, listen_failed, start_command
from flashmm_engine.config.control import is_loopback
from flashmm_engine.service.signals import install_stop_signals
from flashmm_engine.venues.sei.stub.ante import AnteConfig
from flashmm_engine.venues.sei.stub.fault_spec import FaultSpecError, check_fault_spec
from flashmm_engine.venues.sei.stub.server import StubNode, contract_address
from flashmm_engine.venues.sei.units import DenomMarket

_FUND = re.compile(r"^([a-z0-9]+):(\d+)([a-zA-Z][a-zA-Z0-9/:._\-]*)$")
DEFAULT_CONTRACT_LABEL = "flashmm-fin-stub"
MS_PER_S = 1000


def parse_fund(text: str) -> tuple[str, int, str]:
    match = _FUND.match(text)
    if match is None:
        raise click.BadParameter(f"expected ADDRESS:AMOUNTdenom (e.g. sei1...:1000000usei), got {text!r}")
    return match.group(1), int(match.group(2)), match.group(3)


@click.command("sei-stub")
@click.option("--port", type=PORT, default=1317, show_default=True, help="Port for REST and /websocket.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Bind address (keep it loopback).")
@click.option("--fund", "funds", multiple=True, help="ADDRESS:AMOUNTdenom, repeatable.")
@click.option("--contract", default=None, help="Contract address (default: derived from a fixed label).")
@click.option("--min-gas-price", type=DECIMAL, default=None, help="Default: sei.gas_price from settings.")
@click.option(
    "--block-ms", type=click.IntRange(min=1), default=None, help="Block time; default sei.block_time_s."
)
@click.option("--taker-fee-ppm", type=int, default=0, show_default=True)
@click.option("--maker-fee-ppm", type=int, default=0, show_default=True)
@click.option(
    "--faults",
    default=None,
    help="Faults to apply at start, JSON as for POST /stub/faults, e.g. '{\"duplicate\": true}'.",
)
def sei_stub(
    port: int,
    host: str,
    funds: tuple[str, ...],
    contract: str | None,
    min_gas_price: Decimal | None,
    block_ms: int | None,
    taker_fee_ppm: int,
    maker_fee_ppm: int,
    faults: str | None,
) -> None:
    """A local Sei node: Cosmos REST, CometBFT websocket, a FIN-style contract matched by the sim engine."""
    if not is_loopback(host):
        raise click.BadParameter(
            "the stub has an unauthenticated fault API: bind a loopback address", param_hint="--host"
        )
    settings = start_command()
    s = settings.sei
    parsed = [parse_fund(f) for f in funds]
    fault_spec = _fault_spec(faults)
    address = contract or s.contract_address or contract_address(DEFAULT_CONTRACT_LABEL, s.prefix)
    cfg = AnteConfig(
        s.chain_id, s.prefix, s.fee_denom, s.gas_price if min_gas_price is None else min_gas_price
    )
    block_s = s.block_time_s if block_ms is None else block_ms / MS_PER_S
    node = StubNode(cfg, DenomMarket.from_settings(s), address, block_s, taker_fee_ppm, maker_fee_ppm)
    for addr, amount, denom in parsed:
        node.bank.mint(addr, denom, amount)
    asyncio.run(_serve(node, host, port, fault_spec))


def _fault_spec(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        return check_fault_spec(orjson.loads(text))
    except orjson.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--faults") from None
    except FaultSpecError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from None


async def _serve(node: StubNode, host: str, port: int, faults: dict[str, Any]) -> None:
    stop = asyncio.Event()
    install_stop_signals(stop)
    try:
        bound = await node.start(host, port)
    except OSError as exc:
        raise listen_failed("sei-stub", host, port, exc) from None
    await node.apply_faults(faults)
    ready = {
        "rest_url": f"http://{host}:{bound}",
        "ws_url": f"ws://{host}:{bound}/websocket",
        "contract": node.chain.contract.address,
        "chain_id": node.chain.cfg.chain_id,
    }
    sys.stdout.write(orjson.dumps(ready).decode() + "\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await node.stop()
