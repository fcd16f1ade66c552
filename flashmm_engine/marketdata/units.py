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
    with a `ValueError` (`OffTickError` for the last), so a bad field never becomes a wrong number.

    With `round_off_step`, a well-formed value finer than `step` is rounded half-up instead (never to zero, so
    a live level is not removed); `rounded` counts the distinct strings that needed it. Binance spot books
    publish some quantities at 1e-5 although the lot step is 1e-4, and one such level must not cost a resync.
    """

    def __init__(self, step: Decimal, what: str, round_off_step: bool = False) -> None:
        super().__init__()
        self.round_off_step = round_off_step
        self.rounded = 0
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
        if not remainder and not rest.strip("0"):
            return units
        if not self.round_off_step:
            raise OffTickError(f"{self.what} {text[:40]!r} is not a multiple of {self.step}")
        self.rounded += 1
        half_up = 2 * remainder + (rest[:1] >= "5") >= self.multiple
        return max(1, units + half_up)


def format_units(units: int, step: Decimal) -> str:
    """The decimal string of `units * step`, e.g. 268380 ticks of 0.01 -> "2683.80" (venue-format output)."""
    return str(step * units)
