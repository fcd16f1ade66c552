"""The shape of a stub fault spec (`POST /stub/faults`, `sei-stub --faults`): unknown keys are refused."""

from __future__ import annotations

from typing import Any

FAULT_KEYS: dict[str, frozenset[str] | None] = {
    # key -> the keys of its object value, or None for a scalar
    "bump_sequence": frozenset({"address", "by"}),
    "min_gas_price": None,
    "ws_down_s": None,
    "drop_websockets": None,
    "duplicate": None,
    "reorder": None,
    "base64_attributes": None,
    "hold_blocks": None,
    "tx_index_from_height": None,
    "fund": frozenset({"address", "denom", "amount"}),
}


class FaultSpecError(ValueError):
    """A fault spec that is not a JSON object of known keys."""


def check_fault_spec(spec: object) -> dict[str, Any]:
    """`spec` as a dict if every key (and nested key) is known, else FaultSpecError naming the bad one."""
    if not isinstance(spec, dict):
        raise FaultSpecError(f"fault spec must be a JSON object, got {type(spec).__name__}")
    for key, value in spec.items():
        if key not in FAULT_KEYS:
            raise FaultSpecError(f"unknown fault key {key!r}; expected one of {', '.join(FAULT_KEYS)}")
        nested = FAULT_KEYS[key]
        if nested is None:
            if isinstance(value, dict | list):
                raise FaultSpecError(f"fault {key!r} takes a number or boolean, not {type(value).__name__}")
            continue
        if not isinstance(value, dict):
            raise FaultSpecError(f"fault {key!r} takes an object with keys {', '.join(sorted(nested))}")
        unknown = sorted(set(value) - nested)
        if unknown:
            raise FaultSpecError(
                f"unknown key {unknown[0]!r} in fault {key!r}; expected {', '.join(sorted(nested))}"
            )
    return spec
