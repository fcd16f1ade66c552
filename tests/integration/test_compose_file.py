"""docker-compose.yml: `docker-compose config` accepts it, and the stack keeps FlashMM's rules: every service
has a healthcheck, every published port is on loopback, secrets come from the env file, and every file it
mounts exists in the repository."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = ROOT / "deploy" / "compose" / "flashmm.env.example"
EXPECTED_SERVICES = {
    "postgres",
    "redis",
    "influxdb",
    "prometheus",
    "grafana",
    "venue-sim",
    "engine",
    "dagster-webserver",
    "dagster-daemon",
}
SECRET_NAMES = ("PASSWORD", "TOKEN", "API_KEYS", "DSN")


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    """The file as docker-compose itself resolves it (anchors, merges and env-file paths applied)."""
    done = subprocess.run(
        ["docker-compose", "--env-file", str(ENV_EXAMPLE), "-f", str(ROOT / "docker-compose.yml"), "config"],
        cwd=ROOT,
        env={**os.environ, "FLASHMM_ENV_FILE": str(ENV_EXAMPLE)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = yaml.safe_load(done.stdout)
    return config


def test_every_service_is_there_with_a_healthcheck(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    assert set(services) == EXPECTED_SERVICES
    unchecked = [name for name, service in services.items() if "test" not in service.get("healthcheck", {})]
    assert unchecked == []


def test_published_ports_are_loopback_only(resolved: dict[str, Any]) -> None:
    published = [
        (name, port) for name, service in resolved["services"].items() for port in service.get("ports", [])
    ]
    assert published, "the stack publishes the UIs and the control API"
    # docker-compose 1.29 prints ports as HOST_IP:HOST_PORT:CONTAINER_PORT/PROTO
    off_loopback = [(name, port) for name, port in published if not str(port).startswith("127.0.0.1:")]
    assert off_loopback == []


def test_secrets_come_from_the_env_file_not_the_compose_file() -> None:
    """The compose file names the secrets; their values are only in the env file."""
    text = (ROOT / "docker-compose.yml").read_text()
    example = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    )
    secrets = {key: value for key, value in example.items() if any(part in key for part in SECRET_NAMES)}
    assert {"POSTGRES_PASSWORD", "INFLUXDB_TOKEN", "FLASHMM_CONTROL__TOKEN", "FLASHMM_SIM__API_KEYS"} <= set(
        secrets
    )
    leaked = [key for key, value in secrets.items() if value in text]
    assert leaked == []


def test_mounted_files_and_the_build_context_exist(resolved: dict[str, Any]) -> None:
    # short syntax SOURCE:TARGET[:MODE]; a bind mount's source is an absolute path, a volume's a name
    sources = [
        Path(volume.split(":", 1)[0])
        for service in resolved["services"].values()
        for volume in service.get("volumes", [])
        if volume.startswith("/")
    ]
    assert sources, "prometheus and grafana mount their configuration"
    assert [path for path in sources if not path.exists()] == []
    assert (ROOT / "Dockerfile").is_file()


def test_processes_sharing_the_venue_namespace_publish_nothing_themselves(resolved: dict[str, Any]) -> None:
    shared = {
        name: service
        for name, service in resolved["services"].items()
        if service.get("network_mode") == "service:venue-sim"
    }
    assert set(shared) == {"engine", "dagster-webserver", "dagster-daemon", "prometheus"}
    assert [name for name, service in shared.items() if service.get("ports")] == []
