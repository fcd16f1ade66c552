"""The control API: aiohttp served inside the engine's own event loop (no second thread or loop, so the
handlers read and change the runtime's state between cycles without locks).

Open: GET /health, /ready, /status, /metrics. With the bearer token: POST /pause, /resume, /halt, /flatten,
/cancel-all, /reload (optional `?market=NAME`). Every POST is audited: refused authentication in one row;
an authorized action in a row before it runs (an action whose audit row cannot be written does not run)
and a row with its result.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from flashmm_engine.cli_support import listen_failed
from flashmm_engine.config.control import ControlSettings
from flashmm_engine.control.actions import ACTIONS, ControlActions
from flashmm_engine.control.audit import AuditEntry, now_entry
from flashmm_engine.control.auth import AuthDecision, AuthResult, TokenGuard
from flashmm_engine.engine.status import EngineStatus
from flashmm_engine.telemetry.metrics import CONTENT_TYPE, EngineMetrics

log = logging.getLogger(__name__)

AuditWriter = Callable[[AuditEntry], Awaitable[None]]
MAX_BODY_BYTES = 4_096
SHUTDOWN_S = 1.0


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        body=orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS),
        status=status,
        content_type="application/json",
    )


class ControlApi:
    def __init__(
        self,
        settings: ControlSettings,
        instance_id: str,
        snapshot: Callable[[bool], EngineStatus],
        metrics: EngineMetrics,
        actions: ControlActions,
        audit: AuditWriter,
    ) -> None:
        self.settings = settings
        self.instance_id = instance_id
        self.snapshot = snapshot
        self.metrics = metrics
        self.actions = actions
        self.audit = audit
        self.guard = TokenGuard(settings.token)
        self.port: int | None = None
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_get("/health", self._health)
        app.router.add_get("/ready", self._ready)
        app.router.add_get("/status", self._status)
        app.router.add_get("/metrics", self._metrics)
        for action in ACTIONS:
            app.router.add_post(f"/{action}", self._action)
        return app

    async def start(self) -> int:
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_S)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise listen_failed("the control API", self.settings.host, self.settings.port, exc) from None
        self._runner = runner
        addresses = runner.addresses
        self.port = int(addresses[0][1]) if addresses else self.settings.port
        log.info("control API on http://%s:%d", self.settings.host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- open endpoints ---

    async def _health(self, _request: web.Request) -> web.Response:
        return _json({"alive": True, "instance_id": self.instance_id})

    async def _ready(self, _request: web.Request) -> web.Response:
        status = self.snapshot(False)
        markets = {m.market: {"state": m.state, "reason": m.reason, "ready": m.ready} for m in status.markets}
        return _json({"ready": status.ready, "markets": markets}, 200 if status.ready else 503)

    async def _status(self, _request: web.Request) -> web.Response:
        return _json(self.snapshot(True).to_json())

    async def _metrics(self, _request: web.Request) -> web.Response:
        return web.Response(body=self.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})

    # --- actions ---

    async def _action(self, request: web.Request) -> web.Response:
        action = request.path.lstrip("/")
        peer = request.remote or "unknown"
        market = request.query.get("market")
        decision = self.guard.check(peer, request.headers.get("Authorization"), time.time_ns())
        if not decision.ok:
            return await self._refuse(action, peer, decision)
        token_id = decision.token_id
        try:
            await self.audit(now_entry(self.instance_id, token_id, peer, action, "requested", market=market))
        except Exception as exc:  # noqa: BLE001 - no action runs without its audit row
            log.error("control %s refused: the audit row could not be written (%s)", action, exc)
            return _json({"action": action, "result": "audit_unavailable"}, 503)
        outcome = await self.actions.run(action, market)
        log.warning(
            "control %s by token %s from %s: %s %s", action, token_id, peer, outcome.result, outcome.markets
        )
        body = outcome.body(action)
        try:
            await self.audit(
                now_entry(
                    self.instance_id, token_id, peer, action, outcome.result, market=market, outcome=body
                )
            )
        except Exception as exc:  # noqa: BLE001 - the action ran; say that its result is not audited
            log.error("control %s: the result row could not be written (%s)", action, exc)
            body["audit"] = "result not recorded"
        return _json(body, outcome.status)

    async def _refuse(self, action: str, peer: str, decision: AuthDecision) -> web.Response:
        result, token_id = decision.result, decision.token_id
        status = 429 if result is AuthResult.RATE_LIMITED else 401
        if result is not AuthResult.RATE_LIMITED or decision.first_limited:
            log.warning("control %s refused from %s: %s (token id %s)", action, peer, result.value, token_id)
            try:
                await self.audit(now_entry(self.instance_id, token_id, peer, action, result.value))
            except Exception as exc:  # noqa: BLE001 - the refusal stands; the failed write is logged
                log.error("control: audit of a refused %s failed (%s)", action, exc)
        headers = {"WWW-Authenticate": 'Bearer realm="flashmm"'} if status == 401 else {}
        return web.Response(
            body=orjson.dumps({"action": action, "result": result.value}),
            status=status,
            content_type="application/json",
            headers=headers,
        )
