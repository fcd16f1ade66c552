"""The batch scanner's number reading agrees exactly with the per-message parser, and never rounds."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashmm_engine.marketdata.units import UnitParser
from flashmm_engine.venues.binance.batch_scan import SLOW, _decimal, _integer, scan

STEPS = [Decimal("0.01"), Decimal("0.001"), Decimal("0.00001"), Decimal("0.05"), Decimal("1"), None]
NO_LAYOUTS = np.zeros((0, 3), dtype=np.int64), np.zeros((0, 2), dtype=np.int64), b""


def convert(text: str, step: Decimal | None) -> int | None:
    """The scanner's value of `text` followed by a quote, or None if it leaves it to the per-message path."""
    buf = np.frombuffer((text + '"').encode(), dtype=np.uint8)
    out = np.zeros(1, dtype=np.int64)
    if step is None:
        end = _integer(buf, 0, len(buf), out, 0)
    else:
        units = UnitParser(step, "value")
        end = _decimal(buf, 0, len(buf), units.decimals, units.multiple, out, 0)
    return int(out[0]) if end == len(text) else None


def reference(text: str, step: Decimal | None) -> int | None:
    if step is None:  # a JSON integer
        return int(text) if text.isdigit() and (text == "0" or not text.startswith("0")) else None
    try:
        return UnitParser(step, "value").parse(text)
    except ValueError:
        return None


@settings(deadline=None)  # the first example compiles
@given(text=st.text(alphabet="0123456789./", min_size=1, max_size=22), step=st.sampled_from(STEPS))
def test_a_lone_number_agrees_with_the_per_message_parser(text: str, step: Decimal | None) -> None:
    value = convert(text, step)
    if value is not None:  # taken: exactly the per-message value
        assert value == reference(text, step)


@settings(deadline=None)
@given(
    units=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30),
    decimals=st.integers(min_value=0, max_value=8),
)
def test_venue_formatted_numbers_convert_exactly(units: list[int], decimals: int) -> None:
    step = Decimal(1).scaleb(-decimals)
    assert [convert(f"{step * u:.{decimals}f}", step) for u in units] == units


def test_off_step_and_odd_layouts_are_left_to_the_per_message_parser_never_rounded() -> None:
    lot = Decimal("0.00001")
    texts = ["2292.22972", "1.00000", "2292.229721", "2292.2297200", "1.5.0", ".5", "5.", "1/2"]
    assert [convert(t, lot) for t in texts] == [229222972, 100000, None, 229222972, None, None, None, None]
    assert [convert(t, Decimal("0.05")) for t in ("1.07", "1.05")] == [None, 21]
    assert [convert(t, None) for t in ("9" * 19, "9" * 18, "0", "01")] == [None, 10**18 - 1, 0, None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            b"1723161254024619568 {}\n12 {}\r\n\n1723161254024619569 x",
            [1723161254024619568, None, 1723161254024619569],
        ),
        (b"0723161254024619568 {}", [None]),  # a leading zero: left to the per-line path
        (b"1723161254024619568 \n", [None]),  # no message after the stamp
    ],
)
def test_line_index_and_stamps(text: bytes, expected: list[int | None]) -> None:
    found = scan(text, *NO_LAYOUTS, np.zeros((2, 2), dtype=np.int64))
    assert [s if s else None for s in found.stamps.tolist()] == expected
    assert (found.kinds == SLOW).all()
    lines = [text[s:e] for s, e in zip(found.starts.tolist(), found.ends.tolist(), strict=True)]
    assert lines == [line.rstrip(b"\r") for line in text.split(b"\n") if line.rstrip(b"\r")]
