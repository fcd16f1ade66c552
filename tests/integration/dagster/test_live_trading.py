"""live_trading materialized against a real HTTP server on loopback speaking the control API's /status,
and against a port where nothing listens (a clear `not running` state, not a failed run)."""

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from flashmm_dagster.definitions import defs
from flashmm_dagster.jobs import live_job
from flashmm_dagster.resources import FlashmmResource

STATUS = {
    "instance_id": "eng-1",
    "venue": "sim",
    "started": True,
    "uptime_s": 42.5,
    "ready": True,
    "model": {"name": "flashmm", "version": "20240809T000000Z"},
    "markets": [
        {"market": "SIM:ETHUSD", "state": "ACTIVE", "position_lots": -3, "pnl_quote": "1.25",
         "quoted_spread_ticks": 4, "flow": {"fills": 17}},
        {"market": "SIM:BTCUSD", "state": "REDUCING", "position_lots": 0, "pnl_quote": "-0.5",
         "quoted_spread_ticks": None, "flow": {"fills": 2}},
    ],
}  # fmt: skip


class StatusHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/status":
            self.send_error(404)
            return
        body = json.dumps(STATUS).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def control_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StatusHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _materialize(url: str) -> dict:
    """The live_trading_every_minute schedule's job, as the daemon launches it."""
    assert defs.resolve_schedule_def("live_trading_every_minute").job_name == live_job.name
    job = defs.resolve_job_def(live_job.name)
    result = job.execute_in_process(resources={"flashmm": FlashmmResource(control_url=url)})
    assert result.success
    (event,) = result.get_asset_materialization_events()
    return {
        k: getattr(v, "value", getattr(v, "md_str", v)) for k, v in event.materialization.metadata.items()
    }


@pytest.mark.covers("asset:live_trading", "schedule:live_trading_every_minute", data="fixture")
def test_running_engine_is_observed(control_url: str) -> None:
    meta = _materialize(control_url)
    assert meta["state"] == "running" and meta["detail"] == "ready"
    assert meta["model_version"] == "20240809T000000Z"
    assert meta["pnl_quote"] == pytest.approx(0.75)
    assert meta["markets_quoting_both_sides"] == "1/2"
    assert "REDUCING" in meta["markets"] and "| -3 |" in meta["markets"]


def test_engine_not_running_is_a_state_not_a_crash() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    meta = _materialize(f"http://127.0.0.1:{port}")
    assert meta["state"] == "not running"
    assert f"127.0.0.1:{port}/status" in meta["detail"]
    assert meta["model_version"] == "none"
