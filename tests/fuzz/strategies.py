"""Shared fuzzing budget and input strategies: JSON-shaped values with the extremes parsers trip on."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = 2_000
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
"""Every fuzz target: a fixed budget and a fixed sequence of examples, so CI runs the same inputs."""

EXTREME_NUMBERS: list[Any] = [
    0,
    -1,
    1,
    2**31,
    2**63 - 1,
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    1e308,
    -0.0,
    0.5,
    1e-30,
]
NUMBER_STRINGS = st.sampled_from(
    [
        "0",
        "-0",
        "1",
        "-1",
        "0.01",
        "2683.80000000",
        "1e20",
        "1e400",
        "NaN",
        "Infinity",
        "4" * 40,
        "0.000000001",
        "",
        " ",
        "1,5",
        "0x10",
        "1_000",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(EXTREME_NUMBERS),
    st.floats(allow_nan=False, allow_infinity=False),
    NUMBER_STRINGS,
    st.text(max_size=12),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def objects(keys: list[str], values: st.SearchStrategy[Any] = JSON) -> st.SearchStrategy[dict[str, Any]]:
    """Objects over the field names a parser knows (and some it does not), any field possibly missing."""
    known = st.dictionaries(st.sampled_from(keys), values, max_size=len(keys))
    return st.builds(lambda a, b: {**b, **a}, known, st.dictionaries(st.text(max_size=4), JSON, max_size=2))
