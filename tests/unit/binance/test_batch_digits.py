"""Vectorized decimal conversion agrees exactly with the per-message parser, and never rounds."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flashmm_engine.marketdata.units import UnitParser
from flashmm_engine.venues.binance.batch_digits import number_runs, padded, runs_to_units
from flashmm_engine.venues.binance.batch_lines import index_lines, stamps

LARGE = 8 * 10**18
"""Values from here on may exceed int64: the vectorized path leaves them to the per-message parser."""
STEPS = [Decimal("0.01"), Decimal("0.001"), Decimal("0.00001"), Decimal("0.05"), Decimal("1"), None]


def convert(texts: list[str], step: Decimal | None) -> tuple[list[int], list[bool]]:
    buf = np.frombuffer(padded(('"' + '","'.join(texts) + '"').encode()), dtype=np.uint8)
    starts, ends = number_runs(buf)
    assert len(starts) == len(texts)
    values, valid = runs_to_units(buf, starts, ends, step)
    return values.tolist(), valid.tolist()


def reference(text: str, step: Decimal | None) -> int | None:
    if step is None:  # a JSON integer
        return int(text) if text.isdigit() and (text == "0" or not text.startswith("0")) else None
    try:
        return UnitParser(step, "value").parse(text)
    except ValueError:
        return None


@given(
    text=st.text(alphabet="0123456789./", min_size=1, max_size=22),
    step=st.sampled_from(STEPS),
)
def test_a_lone_run_agrees_with_the_per_message_parser(text: str, step: Decimal | None) -> None:
    values, valid = convert([text], step)
    expected = reference(text, step)
    if valid[0]:
        assert values[0] == expected
    else:  # rejected: bad input, or so large that only the per-message parser takes it
        assert expected is None or expected >= LARGE


@given(
    units=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30),
    decimals=st.integers(min_value=0, max_value=8),
)
def test_uniformly_formatted_columns_convert_exactly(units: list[int], decimals: int) -> None:
    step = Decimal(1).scaleb(-decimals)
    texts = [f"{step * u:.{decimals}f}" for u in units]
    values, valid = convert(texts, step)
    assert all(valid) and values == units


def test_off_step_and_odd_layouts_are_flagged_never_rounded() -> None:
    lot = Decimal("0.00001")
    values, valid = convert(["2292.22972", "1.00000", "2292.229721", "2292.2297200", "1.5.0", ".5"], lot)
    assert valid == [True, True, False, False, False, False]
    assert values[:2] == [229222972, 100000]
    _, valid = convert(["1.07", "1.05"], Decimal("0.05"))
    assert valid == [False, True]
    _, valid = convert(["9" * 19, "8" + "9" * 18], None)  # would overflow int64 / fits
    assert valid == [False, True]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            b"1723161254024619568 {}\n12 {}\r\n\n1723161254024619569 x",
            [1723161254024619568, None, 1723161254024619569],
        ),
        (b"0723161254024619568 {}", [None]),  # a leading zero: left to the per-line path
    ],
)
def test_line_index_and_stamps(text: bytes, expected: list[int | None]) -> None:
    lines = index_lines(text)
    values, regular = stamps(lines)
    assert [v if r else None for v, r in zip(values.tolist(), regular.tolist(), strict=True)] == expected
    assert lines.line(1 if len(expected) > 1 else 0).endswith(b"{}")
