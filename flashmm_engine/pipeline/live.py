"""The running engine as the lifecycle observes it: one GET of the control API's `/status`."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

STATUS_TIMEOUT_S = 3.0


@dataclass(frozen=True, slots=True)
class LiveObservation:
    state: str  # "running", "not running" (nothing answers), "error" (answered, but not a status)
    url: str
    detail: str = ""
    model_version: str | None = None
    uptime_s: float | None = None
    markets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pnl_quote(self) -> float:
        return sum(float(m["pnl_quote"]) for m in self.markets if m.get("pnl_quote") is not None)

    @property
    def quoting_markets(self) -> int:
        return sum(1 for m in self.markets if m.get("quoted_spread_ticks") is not None)


def observe(control_url: str) -> LiveObservation:
    url = control_url.rstrip("/") + "/status"
    try:
        with urllib.request.urlopen(url, timeout=STATUS_TIMEOUT_S) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return LiveObservation("error", url, f"HTTP {exc.code} from {url}")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return LiveObservation("not running", url, f"no engine answers at {url}: {reason}")
    except ValueError as exc:
        return LiveObservation("error", url, f"{url} answered with something other than JSON: {exc}")
    if not isinstance(body, dict):
        return LiveObservation(
            "error", url, f"{url} answered with a JSON {type(body).__name__}, not an object"
        )
    model = body.get("model") or {}
    markets = [
        {
            "market": m.get("market"),
            "state": m.get("state"),
            "position_lots": m.get("position_lots"),
            "pnl_quote": m.get("pnl_quote"),
            "quoted_spread_ticks": m.get("quoted_spread_ticks"),
            "fills": (m.get("flow") or {}).get("fills"),
        }
        for m in body.get("markets") or []
        if isinstance(m, dict)
    ]
    return LiveObservation(
        "running" if body.get("started", True) else "starting",
        url,
        "ready" if body.get("ready") else "not ready",
        model.get("version") if isinstance(model, dict) else None,
        body.get("uptime_s"),
        markets,
    )
