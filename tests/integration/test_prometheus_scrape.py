"""Debian's Prometheus against a real engine on loopback: promtool accepts the shipped config and rules
(and their unit tests pass), a Prometheus started on a free port with a generated config scrapes the
engine's /metrics, evaluates the shipped alert rules on it (HALTED fires after an operator pause), and
answers every query of the Grafana dashboard."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.supervised import free_port
from tests.integration.test_control_api import TOKEN, running_engine
from tests.integration.test_engine_bad_input import MARKET, WAIT_S

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
DASHBOARD = REPO / "deploy" / "grafana" / "flashmm.json"
PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
STOP_TIMEOUT_S = 15.0
POLL_S = 0.25

pytestmark = pytest.mark.skipif(
    PROMETHEUS is None or PROMTOOL is None, reason="needs Debian's prometheus (apt-get install prometheus)"
)

SCRAPE_CONFIG = """
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - {rules}
scrape_configs:
  - job_name: flashmm-engine
    static_configs:
      - targets: ["127.0.0.1:{engine_port}"]
"""


def promtool(*args: str, cwd: Path = PROMETHEUS_DIR) -> str:
    assert PROMTOOL is not None
    out = subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout + out.stderr


def test_promtool_accepts_the_rules_and_the_config_and_the_rule_tests_pass() -> None:
    assert "SUCCESS: 7 rules found" in promtool("check", "rules", "alerts.yml")
    assert "valid prometheus config file syntax" in promtool("check", "config", "prometheus.yml")
    assert "SUCCESS" in promtool("test", "rules", "alerts_test.yml")


def test_promtool_refuses_a_broken_rule(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    text = (PROMETHEUS_DIR / "alerts.yml").read_text()
    broken.write_text(text.replace('flashmm_market_state{state="halted"} == 1', "flashmm_market_state{{"))
    assert PROMTOOL is not None
    out = subprocess.run([PROMTOOL, "check", "rules", str(broken)], capture_output=True, text=True)
    assert out.returncode != 0, out.stdout


@contextmanager
def prometheus(tmp_path: Path, engine_port: int) -> Iterator[str]:
    assert PROMETHEUS is not None
    config = tmp_path / "prometheus.yml"
    config.write_text(SCRAPE_CONFIG.format(rules=PROMETHEUS_DIR / "alerts.yml", engine_port=engine_port))
    port = free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


async def query(session: aiohttp.ClientSession, base: str, promql: str) -> list[dict[str, Any]] | None:
    """The result vector, or None while Prometheus is not answering yet."""
    try:
        async with session.get(f"{base}/api/v1/query", params={"query": promql}) as r:
            if r.status == 503:  # still starting (loading the TSDB)
                return None
            body = await r.json()
    except aiohttp.ClientConnectionError:
        return None
    assert body["status"] == "success", (promql, body)
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


async def wait_for_query(
    session: aiohttp.ClientSession, base: str, promql: str, timeout_s: float = WAIT_S
) -> list[dict[str, Any]]:
    async with asyncio.timeout(timeout_s):
        while True:
            result = await query(session, base, promql)
            if result:
                return result
            await asyncio.sleep(POLL_S)


async def alert_states(session: aiohttp.ClientSession, base: str) -> dict[str, str]:
    async with session.get(f"{base}/api/v1/alerts") as r:
        body = await r.json()
    return {a["labels"]["alertname"]: a["state"] for a in body["data"]["alerts"]}


async def wait_for_alert(session: aiohttp.ClientSession, base: str, name: str) -> dict[str, str]:
    """Every pending or firing alert, once `name` is among them."""
    async with asyncio.timeout(WAIT_S):
        while True:
            states = await alert_states(session, base)
            if name in states:
                return states
            await asyncio.sleep(POLL_S)


def dashboard_queries() -> list[str]:
    dash = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    return [e.replace("$instance", ".*").replace("$market", ".*") for e in exprs]


def metric_names(promql: str) -> set[str]:
    return set(re.findall(r"\b(flashmm_[a-z_]+)", promql))


async def test_prometheus_scrapes_the_engine_and_evaluates_the_alerts(tmp_path: Path) -> None:
    async with running_engine(tmp_path) as runtime, aiohttp.ClientSession() as session:
        assert runtime.control is not None and runtime.control.port
        engine = f"http://127.0.0.1:{runtime.control.port}"
        with prometheus(tmp_path, runtime.control.port) as prom:
            up = await wait_for_query(session, prom, 'up{job="flashmm-engine"} == 1')
            cycles = await wait_for_query(session, prom, "flashmm_cycles_total > 5")
            p99 = await wait_for_query(
                session, prom, "histogram_quantile(0.99, rate(flashmm_cycle_seconds_bucket[30s])) > 0"
            )
            async with session.post(f"{engine}/pause", headers={"Authorization": f"Bearer {TOKEN}"}) as r:
                assert r.status == 200
            halted = await wait_for_query(session, prom, 'flashmm_market_state{state="halted"} == 1')
            alerts = await wait_for_alert(session, prom, "FlashmmMarketHalted")
            answers = {q: await query(session, prom, q) for q in dashboard_queries()}
            async with session.get(f"{engine}/metrics") as r:
                exposed = {f.name for f in text_string_to_metric_families(await r.text())}
    print(f"\nprometheus: up {up[0]['value'][1]}, cycles {cycles[0]['value'][1]}, alerts {alerts}")
    assert cycles[0]["metric"]["market"] == MARKET
    assert float(p99[0]["value"][1]) > 0
    assert halted[0]["metric"]["market"] == MARKET
    assert alerts["FlashmmMarketHalted"] in ("pending", "firing")
    assert all(v is not None for v in answers.values())
    referenced = set().union(*(metric_names(q) for q in answers))
    suffixes = ("_total", "_bucket")
    bases = {next((n.removesuffix(s) for s in suffixes if n.endswith(s)), n) for n in referenced}
    assert bases <= exposed, f"the dashboard uses metrics the engine does not expose: {bases - exposed}"
    # in this run no model serves, the market is paused (no quotes) and nothing was rejected, refused or
    # fell back: those panels have no series; every other panel must show data
    may_be_empty = {
        "flashmm_model_age_seconds",
        "flashmm_quoted_spread_ticks",
        "flashmm_fallbacks_total",
        "flashmm_rejects_total",
        "flashmm_risk_refusals_total",
    }
    empty = sorted(q for q, v in answers.items() if not v)
    unexplained = [q for q in empty if not metric_names(q) <= may_be_empty]
    assert unexplained == [], f"panels without data: {unexplained}"
