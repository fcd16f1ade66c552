"""Binance instrument specs: from an exchangeInfo document (a file, or the live REST endpoint), or inferred.

exchangeInfo fields used, per symbol entry: `filters[]` PRICE_FILTER `tickSize` and LOT_SIZE `stepSize`,
`baseAsset`, `quoteAsset`, and on COIN-M (`/dapi/v1/exchangeInfo`) `contractSize` and `marginAsset`.

Spot books publish resting quantities at the base asset's precision, finer than LOT_SIZE (partial fills of
quote-sized orders), so a spot spec keeps sizes at `10**-baseAssetPrecision` when that is finer, and records
LOT_SIZE as `order_lot_size`. Inference takes the largest decimal step dividing every price and every size
of the capture's depth snapshots and diffs; a later value off that step is bad input, never rounded.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from flashmm_engine.errors import InputError
from flashmm_engine.marketdata.capture import read_capture
from flashmm_engine.marketdata.spec import SOURCE_EXCHANGE_INFO, SOURCE_INFERRED, InstrumentSpec, decimal_step
from flashmm_engine.venues.base import VenueError
from flashmm_engine.venues.binance.detect import SNAPSHOT_PREFIX, VENUE
from flashmm_engine.venues.binance.markets import EXCHANGE_INFO_PATHS, BinanceMarket, market_id, split_symbol

EXCHANGE_INFO_TIMEOUT_S = 10.0
_LEVEL = re.compile(rb'\["([0-9]+(?:\.[0-9]+)?)","([0-9]+(?:\.[0-9]+)?)"')
"""A depth level of plain decimals; levels in any other shape are the parser's bad input, not evidence."""


def read_exchange_info(path: Path, market: BinanceMarket, symbol: str) -> InstrumentSpec:
    try:
        document = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise InputError(f"{path}: cannot read the exchangeInfo file: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON ({exc}); expected a Binance exchangeInfo document") from None
    return spec_from_exchange_info(document, market, symbol, str(path))


def spec_from_exchange_info(document: Any, market: BinanceMarket, symbol: str, origin: str) -> InstrumentSpec:
    wanted = symbol.upper()
    entries = document.get("symbols") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise InputError(f"{origin}: no `symbols` list; expected a Binance exchangeInfo document")
    entry = next((e for e in entries if isinstance(e, dict) and e.get("symbol") == wanted), None)
    if entry is None:
        listed = ", ".join(str(e.get("symbol")) for e in entries[:5] if isinstance(e, dict))
        raise InputError(f"{origin}: exchangeInfo has no symbol {wanted} ({len(entries)} listed: {listed})")
    try:
        filters = {f["filterType"]: f for f in entry["filters"]}
        tick = Decimal(filters["PRICE_FILTER"]["tickSize"])
        step = Decimal(filters["LOT_SIZE"]["stepSize"])
        contract = entry.get("contractSize")
        if market == "coinm" and contract is None:
            raise InputError(
                f"{origin}: {wanted} has no contractSize; expected a /dapi/v1/exchangeInfo document"
            )
        lot = step
        precision = entry.get("baseAssetPrecision")
        if market == "spot" and isinstance(precision, int) and Decimal(1).scaleb(-precision) < step:
            lot = Decimal(1).scaleb(-precision)
        spec = InstrumentSpec(
            venue=VENUE,
            market=market,
            symbol=wanted,
            market_id=market_id(market, wanted),
            tick_size=tick.normalize(),
            lot_size=lot.normalize(),
            base=str(entry["baseAsset"]),
            quote=str(entry["quoteAsset"]),
            source=SOURCE_EXCHANGE_INFO,
            origin=origin,
            contract_size=None if contract is None else Decimal(str(contract)),
            margin=str(entry.get("marginAsset", "")),
            order_lot_size=step.normalize(),
        )
    except (KeyError, TypeError, InvalidOperation) as exc:
        raise InputError(
            f"{origin}: {wanted} entry lacks a usable field ({type(exc).__name__}: {exc})"
        ) from None
    if tick <= 0 or lot <= 0:
        raise InputError(
            f"{origin}: {wanted} has tickSize {tick} and stepSize {step}; expected positive steps"
        )
    return spec


async def fetch_exchange_info(
    session: aiohttp.ClientSession, rest_url: str, market: BinanceMarket, symbol: str
) -> InstrumentSpec:
    """The live spec from the market's REST exchangeInfo endpoint (the live feed's source of specs)."""
    url = f"{rest_url}{EXCHANGE_INFO_PATHS[market]}"
    params = {"symbol": symbol.upper()} if market == "spot" else {}  # futures list every symbol
    timeout = aiohttp.ClientTimeout(total=EXCHANGE_INFO_TIMEOUT_S)
    async with session.get(url, params=params, timeout=timeout) as resp:
        body = await resp.read()
        if resp.status != 200:
            raise VenueError(f"exchangeInfo HTTP {resp.status}: {body[:120]!r}")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise VenueError(f"exchangeInfo from {url} is not JSON: {exc}") from None
    return spec_from_exchange_info(document, market, symbol, url)


def infer_spec(path: Path, market: BinanceMarket, symbol: str) -> InstrumentSpec:
    """The tick and lot of `symbol` as the capture's own depth snapshots and diffs show them."""
    return infer_spec_from_text(read_capture(path), market, symbol, str(path))


def infer_spec_from_text(text: bytes, market: BinanceMarket, symbol: str, origin: str) -> InstrumentSpec:
    prices, sizes = capture_levels(text, symbol)
    tick, lot = decimal_step(prices), decimal_step(sizes)
    if tick is None or lot is None:
        raise InputError(
            f"{origin}: no {symbol} depth level with a non-zero price and size; cannot infer the spec "
            "(give --exchange-info FILE)"
        )
    base, quote = split_symbol(symbol)
    return InstrumentSpec(
        venue=VENUE,
        market=market,
        symbol=symbol.upper(),
        market_id=market_id(market, symbol),
        tick_size=tick,
        lot_size=lot,
        base=base,
        quote=quote,
        source=SOURCE_INFERRED,
        origin=origin,
    )


def exchange_info_document(spec: InstrumentSpec) -> dict[str, Any]:
    """A minimal exchangeInfo document for one spec, in Binance's field names (the replay server's)."""
    entry: dict[str, Any] = {
        "symbol": spec.symbol,
        "status": "TRADING",
        "baseAsset": spec.base,
        "quoteAsset": spec.quote,
        "filters": [
            {"filterType": "PRICE_FILTER", "tickSize": format(spec.tick_size, "f")},
            {"filterType": "LOT_SIZE", "stepSize": format(spec.lot_size, "f")},
        ],
    }
    if spec.market == "coinm" and spec.contract_size is not None:
        entry["contractSize"] = int(spec.contract_size)
        entry["marginAsset"] = spec.margin or spec.base
        entry["pair"] = spec.symbol.partition("_")[0]
    return {"timezone": "UTC", "symbols": [entry]}


def capture_levels(text: bytes, symbol: str) -> tuple[set[str], set[str]]:
    """Distinct price and size strings of every level in the symbol's diffs and in the depth snapshots."""
    depth_prefix = b'{"stream":"' + symbol.lower().encode() + b"@depth"
    prices: set[bytes] = set()
    sizes: set[bytes] = set()
    for line in text.split(b"\n"):
        raw = line.partition(b" ")[2]
        if raw.startswith((depth_prefix, SNAPSHOT_PREFIX)):
            levels = _LEVEL.findall(raw)
            prices.update(price for price, _ in levels)
            sizes.update(size for _, size in levels)
    return {p.decode("ascii", "replace") for p in prices}, {s.decode("ascii", "replace") for s in sizes}
