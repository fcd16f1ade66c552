"""Fast conversion of venue decimal strings to integer ticks or lots, without `Decimal` in the hot path.

Prices and sizes repeat heavily in a feed, so each parser memoises its results in a dict whose
`__missing__` does the real parse: the common case is then a single C-level dict lookup.
"""

from __future__ import annotations

from decimal import Decimal

from flashmm_engine.types import OffTickError

MAX_CACHED_STRINGS = 200_000
"""Bound on memoised strings per parser; the cache is cleared when it grows past this."""


class UnitParser(dict[str, int]):
    """Maps a decimal string such as "2683.80000000" to an integer number of `step` units.

    Rejects signs, exponents, underscores, blanks and values that are not whole multiples of `step`
    with a `ValueError` (`OffTickError` for the last), so a bad field never becomes a wrong number: a value
    finer than `step` is never rounded.
    """

    def __init__(self, step: Decimal, what: str) -> None:
        super().__init__()
        if step <= 0:
            raise ValueError(f"{what} step must be positive, got {step}")
        exponent = step.normalize().as_tuple().exponent
        if not isinstance(exponent, int):
            raise ValueError(f"{what} step must be finite, got {step}")
        self.decimals = max(0, -exponent)
        self.multiple = int(step.scaleb(self.decimals))
        self.what = what
        self.step = step

    def __missing__(self, text: str) -> int:
        units = self.parse(text)
        if len(self) >= MAX_CACHED_STRINGS:
            self.clear()
        self[text] = units
        return units

    def parse(self, text: str) -> int:
        whole, _, fraction = text.partition(".")
        decimals = self.decimals
        if self.multiple == 1 and whole:
            # the usual venue formatting: exactly the step's decimals, or more but all zeros (Binance spot)
            if len(fraction) == decimals:
                digits = whole + fraction
            elif len(fraction) > decimals and not fraction[decimals:].strip("0"):
                digits = whole + fraction[:decimals]
            else:
                digits = ""
            if digits.isdigit() and digits.isascii():
                return int(digits)
        return self._parse_general(text, whole, fraction)

    def _parse_general(self, text: str, whole: str, fraction: str) -> int:
        kept, rest = fraction[: self.decimals], fraction[self.decimals :]
        digits = whole + kept.ljust(self.decimals, "0")
        valid_rest = not rest or (rest.isdigit() and rest.isascii())
        if not whole or not (digits.isascii() and digits.isdigit()) or not valid_rest:
            raise ValueError(f"{self.what} {text[:40]!r} is not a non-negative decimal")
        scaled = int(digits)
        units, remainder = divmod(scaled, self.multiple)
        if remainder or rest.strip("0"):
            raise OffTickError(f"{self.what} {text[:40]!r} is not a multiple of {self.step}")
        return units


def format_units(units: int, step: Decimal) -> str:
    """The decimal string of `units * step`, e.g. 268380 ticks of 0.01 -> "2683.80" (venue-format output)."""
    return str(step * units)
