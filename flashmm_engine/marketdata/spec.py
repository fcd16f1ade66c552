"""Instrument specs: tick, lot, contract size, base and quote of one market, with where they came from.

A spec is resolved once per capture or feed (from the venue's own metadata, or inferred from the data) and
written beside every normalized table and raw segment as `spec.json`, so later stages read it instead of
guessing again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import orjson

from flashmm_engine.errors import InputError
from flashmm_engine.types import MarketSpec

SPEC_FILE = "spec.json"
SPEC_SUFFIX = ".spec.json"
SOURCE_EXCHANGE_INFO = "exchange_info"
SOURCE_INFERRED = "inferred"


@dataclass(frozen=True)
class InstrumentSpec:
    """`lot_size` is the resolution the feed publishes sizes at (what the book is kept in); `order_lot_size`
    is the venue's order step where known. `contract_size` is set for contracts sized in units of quote
    (e.g. Binance COIN-M), None where a lot is an amount of the base asset."""

    venue: str
    market: str
    symbol: str
    market_id: str
    tick_size: Decimal
    lot_size: Decimal
    base: str
    quote: str
    source: str  # SOURCE_EXCHANGE_INFO or SOURCE_INFERRED
    origin: str  # the file, URL or capture the values were read from
    contract_size: Decimal | None = None
    margin: str = ""
    order_lot_size: Decimal | None = None

    def market_spec(self) -> MarketSpec:
        return MarketSpec(self.market_id, self.tick_size, self.lot_size, self.base, self.quote)

    def to_json(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "market": self.market,
            "symbol": self.symbol,
            "market_id": self.market_id,
            "tick_size": _text(self.tick_size),
            "lot_size": _text(self.lot_size),
            "contract_size": None if self.contract_size is None else _text(self.contract_size),
            "order_lot_size": None if self.order_lot_size is None else _text(self.order_lot_size),
            "base": self.base,
            "quote": self.quote,
            "margin": self.margin,
            "source": self.source,
            "origin": self.origin,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InstrumentSpec:
        def optional(name: str) -> Decimal | None:
            value = data.get(name)
            return None if value is None else Decimal(str(value))

        return cls(
            venue=str(data["venue"]),
            market=str(data["market"]),
            symbol=str(data["symbol"]),
            market_id=str(data["market_id"]),
            tick_size=Decimal(str(data["tick_size"])),
            lot_size=Decimal(str(data["lot_size"])),
            base=str(data.get("base", "")),
            quote=str(data.get("quote", "")),
            source=str(data["source"]),
            origin=str(data.get("origin", "")),
            contract_size=optional("contract_size"),
            margin=str(data.get("margin", "")),
            order_lot_size=optional("order_lot_size"),
        )


def _text(value: Decimal) -> str:
    return format(value, "f")


def write_spec(spec: InstrumentSpec, path: Path) -> Path:
    path.write_bytes(orjson.dumps(spec.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
    return path


def read_spec(path: Path) -> InstrumentSpec:
    try:
        return InstrumentSpec.from_json(orjson.loads(path.read_bytes()))
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, InvalidOperation) as exc:
        raise InputError(f"{path}: not a readable instrument spec ({type(exc).__name__}: {exc})") from None


def sidecar_path(segment: Path) -> Path:
    """Where a raw segment's spec lives: `<segment>.spec.json`."""
    return segment.with_name(segment.name + SPEC_SUFFIX)


def recorded_spec(capture: Path) -> InstrumentSpec | None:
    """The spec a recorder wrote beside this raw segment, if any."""
    sidecar = sidecar_path(capture)
    return read_spec(sidecar) if sidecar.is_file() else None


def decimal_step(values: Iterable[str]) -> Decimal | None:
    """The largest power of ten that divides every value (e.g. 0.01 for "2683.80", "2683.81"); zeros and
    repeats are ignored; None if no value is non-zero. Raises ValueError on a non-decimal string.

    Only powers of ten: a common factor of 2 or 5 in a sample (all sizes even at their last digit, as in a
    real spot capture) says nothing of the venue's step, and a step too coarse would reject later values.
    """
    exponent: int | None = None
    for text in set(values):
        value = Decimal(text)
        if not value.is_finite() or value < 0:
            raise ValueError(f"{text!r} is not a non-negative decimal")
        if not value:
            continue
        least = value.normalize().as_tuple().exponent
        assert isinstance(least, int)
        exponent = least if exponent is None else min(exponent, least)
    return None if exponent is None else plain(Decimal(1).scaleb(exponent))


def plain(value: Decimal) -> Decimal:
    """`value` without trailing zeros and without an exponent: 0.0100 -> 0.01, 1E+1 -> 10."""
    value = value.normalize()
    exponent = value.as_tuple().exponent
    return value.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else value
