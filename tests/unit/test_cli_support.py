import json

import pytest

from flashmm_engine.cli_support import emit, round_floats


def test_round_floats_drops_binary_noise_and_keeps_measured_digits() -> None:
    raw = {
        "pnl": 917.0125600000001,
        "bps": [0.1 + 0.2, 1 / 3],
        "fills": 12,
        "name": "x",
        "nested": {"v": 2.5},
    }
    assert round_floats(raw) == {
        "pnl": 917.01256,
        "bps": [0.3, 0.333333333333],
        "fills": 12,
        "name": "x",
        "nested": {"v": 2.5},
    }


def test_round_floats_keeps_large_integral_floats_and_non_finite_values() -> None:
    assert round_floats(123456789012.0) == 123456789012.0
    assert round_floats(float("inf")) == float("inf")
    assert round_floats(True) is True  # bools are ints, not floats


def test_emit_prints_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    emit({"pnl": 917.0125600000001, "n": 3})
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "917.0125600000001" not in out
    assert json.loads(out) == {"pnl": 917.01256, "n": 3}
