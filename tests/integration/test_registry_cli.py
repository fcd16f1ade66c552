"""`flashmm model list|promote|rollback` through the real CLI on SQLite and on the real PostgreSQL:
one JSON object on stdout each, refusals with a clear reason and exit status 1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result

from flashmm_engine import cli as cli_module
from flashmm_engine.models.registry import ModelRegistry


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/var/registry.db"
    else:
        url = request.getfixturevalue("pg_url")
    monkeypatch.setenv("FLASHMM_DATABASE__URL", url)
    return url


@pytest.fixture
def registered(db_url: str) -> Iterator[ModelRegistry]:
    registry = ModelRegistry(db_url)
    for version in ("v1", "v2", "v3"):
        registry.register("m", version, f"models/m/{version}", "ab" * 32, {"n": int(version[1])})
    registry.register("other", "v1", "models/other/v1", "cd" * 32, {})
    yield registry
    registry.close()


def flashmm(*args: str) -> Result:
    return CliRunner().invoke(cli_module.cli, ["model", *args])


def ok(*args: str) -> dict[str, Any]:
    result = flashmm(*args)
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = orjson.loads(result.stdout)  # exactly one JSON document, nothing else
    return payload


def stages(name: str) -> list[tuple[str, str]]:
    return [(m["version"], m["stage"]) for m in ok("list", "--name", name)["models"]]


def test_list_shows_every_registered_version(registered: ModelRegistry) -> None:
    everything = ok("list")["models"]
    assert [(m["name"], m["version"]) for m in everything] == [
        ("m", "v1"),
        ("m", "v2"),
        ("m", "v3"),
        ("other", "v1"),
    ]
    only_m = ok("list", "--name", "m")["models"]
    assert {m["stage"] for m in only_m} == {"candidate"}
    assert only_m[1]["metrics"] == {"n": 2} and only_m[1]["sha256"] == "ab" * 32
    assert datetime.fromisoformat(only_m[0]["created_at"]).utcoffset() == timedelta(0)  # same on both DBs
    assert ok("list", "--name", "nobody") == {"models": []}


def test_promote_then_rollback_is_one_command(registered: ModelRegistry) -> None:
    validated = ok("promote", "m", "v1", "--stage", "validated")
    assert (validated["stage"], validated["previous_stage"], validated["retired"]) == (
        "validated",
        "candidate",
        None,
    )
    first = ok("promote", "m", "v1")  # the default target is the next stage: validated -> production
    assert (first["stage"], first["previous_stage"], first["retired"]) == ("production", "validated", None)
    assert datetime.fromisoformat(first["promoted_at"]).utcoffset() == timedelta(0)
    ok("promote", "m", "v2", "--stage", "validated")
    second = ok("promote", "m", "v2", "--stage", "production")
    assert (second["version"], second["retired"]) == ("v2", "v1")
    assert stages("m") == [("v1", "retired"), ("v2", "production"), ("v3", "candidate")]

    back = ok("rollback", "m")
    assert (back["version"], back["stage"], back["retired"]) == ("v1", "production", "v2")
    assert stages("m") == [("v1", "production"), ("v2", "retired"), ("v3", "candidate")]
    production = registered.production("m")
    assert production is not None and production.version == "v1"


def test_promote_follows_the_stage_order(registered: ModelRegistry) -> None:
    # the README's example on a fresh candidate: one stage at a time, in order
    step = ok("promote", "m", "v3")
    assert (step["stage"], step["previous_stage"], step["via"]) == ("validated", "candidate", [])
    step = ok("promote", "m", "v3")
    assert (step["stage"], step["previous_stage"], step["via"]) == ("production", "validated", [])
    # --stage production from candidate walks through validated in one transaction, and says so
    walked = ok("promote", "m", "v2", "--stage", "production")
    assert (walked["stage"], walked["previous_stage"], walked["via"], walked["retired"]) == (
        "production",
        "candidate",
        ["validated"],
        "v3",
    )
    assert stages("m") == [("v1", "candidate"), ("v2", "production"), ("v3", "retired")]


def test_refusals_exit_1_with_the_reason_and_no_json(registered: ModelRegistry) -> None:
    ok("promote", "m", "v2", "--stage", "production")
    cases = [
        (("promote", "m", "v2"), "already in production"),
        (("promote", "m", "v2", "--stage", "validated"), "cannot go from production to validated"),
        (("promote", "m", "v9", "--stage", "validated"), "no model m/v9"),
        (("rollback", "other"), "no previously promoted version"),
    ]
    for args, reason in cases:
        result = flashmm(*args)
        assert result.exit_code == 1, result.output
        assert reason in result.stderr and result.stdout == ""
    bad_stage = flashmm("promote", "m", "v1", "--stage", "retired")
    assert bad_stage.exit_code == 2 and "Invalid value for '--stage'" in bad_stage.stderr
    assert stages("m") == [("v1", "candidate"), ("v2", "production"), ("v3", "candidate")]
