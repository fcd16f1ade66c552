"""Reading a running dagster-webserver through its GraphQL endpoint: runs, and per asset its latest
materialization and the results of its checks."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

GRAPHQL_TIMEOUT_S = 30.0

ASSETS_QUERY = """
{
  assetNodes {
    assetKey { path }
    assetMaterializations(limit: 1) {
      runId
      timestamp
      metadataEntries { label ... on TextMetadataEntry { text } }
    }
    assetChecksOrError {
      __typename
      ... on AssetChecks {
        checks { name blocking executionForLatestMaterialization { status } }
      }
    }
  }
}
"""

RUNS_QUERY = """
{
  runsOrError(limit: 200) {
    __typename
    ... on Runs { results { runId jobName status tags { key value } } }
  }
}
"""


@dataclass(frozen=True)
class AssetState:
    name: str
    materialized: bool
    run_id: str | None
    metadata: dict[str, str]
    checks: dict[str, str | None]  # check name -> status of its execution for the latest materialization


def graphql(port: int, query: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=GRAPHQL_TIMEOUT_S) as response:
        body: dict[str, Any] = json.loads(response.read())
    if body.get("errors"):
        raise AssertionError(f"GraphQL errors: {body['errors']}")
    data: dict[str, Any] = body["data"]
    return data


def assets(port: int) -> dict[str, AssetState]:
    out: dict[str, AssetState] = {}
    for node in graphql(port, ASSETS_QUERY)["assetNodes"]:
        name = "/".join(node["assetKey"]["path"])
        latest = node["assetMaterializations"][0] if node["assetMaterializations"] else None
        metadata = {e["label"]: e["text"] for e in (latest or {}).get("metadataEntries", []) if "text" in e}
        checks_node = node["assetChecksOrError"]
        checks: dict[str, str | None] = {}
        if checks_node["__typename"] == "AssetChecks":
            for check in checks_node["checks"]:
                execution = check["executionForLatestMaterialization"]
                checks[check["name"]] = execution["status"] if execution else None
        out[name] = AssetState(name, latest is not None, latest and latest["runId"], metadata, checks)
    return out


def runs(port: int) -> list[dict[str, Any]]:
    result = graphql(port, RUNS_QUERY)["runsOrError"]
    if result["__typename"] != "Runs":
        raise AssertionError(f"runsOrError: {result}")
    found: list[dict[str, Any]] = result["results"]
    return found


def answers(port: int) -> bool:
    try:
        graphql(port, "{ version }")
    except (urllib.error.URLError, OSError, AssertionError, ValueError):
        return False
    return True
