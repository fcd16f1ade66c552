"""`flashmm venue sei-stub`: run the local Sei stub node on 127.0.0.1 until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import re
import sys
from decimal import Decimal

import click
import orjson

from flashmm_engine.config.control import is_loopback
from flashmm_engine.config.settings import load_settings
from flashmm_engine.service.signals import install_stop_signals
from flashmm_engine.telemetry.logs import configure_logging
from flashmm_engine.venues.sei.stub.ante import AnteConfig
from flashmm_engine.venues.sei.stub.server import StubNode, contract_address
from flashmm_engine.venues.sei.units import DenomMarket

_FUND = re.compile(r"^([a-z0-9]+):(\d+)([a-zA-Z][a-zA-Z0-9/:._\-]*)$")
DEFAULT_CONTRACT_LABEL = "flashmm-fin-stub"


def parse_fund(text: str) -> tuple[str, int, str]:
    match = _FUND.match(text)
    if match is None:
        raise click.BadParameter(f"expected ADDRESS:AMOUNTdenom (e.g. sei1...:1000000usei), got {text!r}")
    return match.group(1), int(match.group(2)), match.group(3)


@click.command("sei-stub")
@click.option("--port", type=int, default=1317, show_default=True, help="Port for REST and /websocket.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Bind address (keep it loopback).")
@click.option("--fund", "funds", multiple=True, help="ADDRESS:AMOUNTdenom, repeatable.")
@click.option("--contract", default=None, help="Contract address (default: derived from a fixed label).")
@click.option("--min-gas-price", type=Decimal, default=None, help="Default: sei.gas_price from settings.")
@click.option("--block-ms", type=int, default=None, help="Block time; default sei.block_time_s.")
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
    settings = load_settings()
    configure_logging(settings.telemetry.log_level, settings.telemetry.log_json)
    s = settings.sei
    parsed = [parse_fund(f) for f in funds]
    try:
        fault_spec = orjson.loads(faults) if faults else {}
    except orjson.JSONDecodeError as exc:
        raise click.BadParameter(f"--faults is not JSON: {exc}") from None
    address = contract or s.contract_address or contract_address(DEFAULT_CONTRACT_LABEL, s.prefix)
    cfg = AnteConfig(s.chain_id, s.prefix, s.fee_denom, min_gas_price or s.gas_price)
    block_s = block_ms / 1000 if block_ms else s.block_time_s
    node = StubNode(cfg, DenomMarket.from_settings(s), address, block_s, taker_fee_ppm, maker_fee_ppm)
    for addr, amount, denom in parsed:
        node.bank.mint(addr, denom, amount)
    asyncio.run(_serve(node, host, port, fault_spec))


async def _serve(node: StubNode, host: str, port: int, faults: dict[str, object]) -> None:
    stop = asyncio.Event()
    install_stop_signals(stop)
    bound = await node.start(host, port)
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
