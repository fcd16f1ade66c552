"""The daily report: the day's trading from the ledger (PnL and its attribution, fills, markouts, spread
captured, inventory), the model versions live, production vs shadow accuracy, and live-vs-backtest drift
(the day's recorded market data replayed through the backtester with the model that was live)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from flashmm_engine.backtest.build import BacktestOptions
from flashmm_engine.backtest.run import backtest_tables
from flashmm_engine.marketdata.normalize import NormalizedTables
from flashmm_engine.pipeline.layout import Layout
from flashmm_engine.pipeline.segments import PARTITION_HOUR_FORMAT, instrument_key
from flashmm_engine.pipeline.store import concat_tables, read_events
from flashmm_engine.reports import html, plots
from flashmm_engine.reports.attribution import MidPath, attribute, inventory_path, summary
from flashmm_engine.reports.ledger_data import live_versions, market_days, shadow_accuracy, shadow_rows
from flashmm_engine.types import NS_PER_S, MarketSpec

log = logging.getLogger(__name__)

SHADOW_HORIZON_NS = NS_PER_S
ATTRIBUTION_PARTS = ("spread_capture", "inventory", "adverse_selection", "fees")


@dataclass(frozen=True, slots=True)
class DailyReport:
    day: str
    data: dict[str, Any]
    plots: dict[str, bytes]
    html_path: Path
    json_path: Path


def build_daily_report(
    layout: Layout, database_url: str, model_name: str, day: datetime, backtest_drift: bool = True
) -> DailyReport:
    start = day.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=UTC)
    end = start + timedelta(days=1)
    start_ns, end_ns = int(start.timestamp()) * NS_PER_S, int(end.timestamp()) * NS_PER_S
    versions = live_versions(database_url, model_name, start, end)
    markets: dict[str, Any] = {}
    series: dict[str, Any] = {"pnl": {}, "inventory": {}}
    for md in market_days(database_url, start_ns, end_ns):
        key = instrument_key(md.market)
        tables = _day_events(layout, key, start)
        mids = _mid_path(tables)
        spec = tables.spec if tables is not None else None
        parts = attribute(md.fills, mids, md.start_position, start_ns, end_ns).as_dict()
        entry: dict[str, Any] = {
            **summary(md.fills, mids, md.start_position),
            "attribution_units": parts,
            "attribution_quote": {k: _quote(spec, v) for k, v in parts.items()},
            "pnl_quote": _quote(spec, parts["total"]),
            "market_data": tables is not None,
        }
        if backtest_drift and tables is not None:
            live_model = Path(versions[-1]["path"]) if versions else None
            entry["drift_model"] = str(live_model) if live_model else "none live: plain AS quoting"
            entry["drift"] = _drift(tables, live_model, entry)
        markets[md.market] = entry
        series["pnl"][md.market] = _cumulative_pnl(md.fills, mids, md.start_position, start_ns, spec)
        series["inventory"][md.market] = [
            ((ts - start_ns) / 3600e9, p) for ts, p in inventory_path(md.fills, md.start_position)
        ]
    shadow = shadow_rows(database_url, start_ns, end_ns)
    day_name = start.date().isoformat()
    data: dict[str, Any] = {
        "day": day_name,
        "markets": markets,
        "model_versions": versions,
        "shadow": shadow_accuracy(shadow, SHADOW_HORIZON_NS) if shadow is not None else None,
        "shadow_note": None if shadow is not None else "no model_predictions table: no shadow challenger ran",
    }
    figures = _figures(data, series)
    out = layout.reports / day_name
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "daily_report.json"
    json_path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    html_path = out / "daily_report.html"
    html_path.write_text(html.page(f"FlashMM daily report {data['day']}", sections(data), figures))
    return DailyReport(day_name, data, figures, html_path, json_path)


def _day_events(layout: Layout, market: str, start: datetime) -> NormalizedTables | None:
    hours = [(start + timedelta(hours=h)).strftime(PARTITION_HOUR_FORMAT) for h in range(24)]
    parts = [t for h in hours if (t := read_events(layout.events(market, h))) is not None]
    return concat_tables(parts) if parts else None


def _mid_path(tables: NormalizedTables | None) -> MidPath:
    if tables is None or not len(tables.top_of_book):
        return MidPath([], [])
    top = tables.top_of_book
    return MidPath(top["ts_local"].tolist(), (top["bid_price"] + top["ask_price"]).tolist())


def _quote(spec: MarketSpec | None, units: int) -> float | None:
    return None if spec is None else float(spec.notional_to_quote(units))


def _cumulative_pnl(
    fills: list[Any], mids: MidPath, start_position: int, start_ns: int, spec: MarketSpec | None
) -> list[tuple[float, float]]:
    points = []
    for i in range(1, len(fills) + 1):
        total = attribute(fills[:i], mids, start_position, start_ns, fills[i - 1].ts).total
        points.append(((fills[i - 1].ts - start_ns) / 3600e9, _quote(spec, total) or float(total)))
    return points


def _drift(tables: NormalizedTables, model_dir: Path | None, live: dict[str, Any]) -> list[Any]:
    """Live (ledger) against the backtester on the same recorded data with the model that was live."""
    opts = BacktestOptions(strategy="mm", model_dir=model_dir)
    bt = backtest_tables(tables, opts)
    rows = []
    for metric, live_value, bt_value in (
        ("fills", live["fills"], bt["fills"]),
        ("pnl_quote", live["pnl_quote"], bt["pnl"]),
        ("markout_1s_bps", live["markout_1s_bps"], bt["markout_1s_bps"]),
        ("markout_5s_bps", live["markout_5s_bps"], bt["markout_5s_bps"]),
        ("markout_30s_bps", live["markout_30s_bps"], bt["markout_30s_bps"]),
    ):
        diff = None if live_value is None or bt_value is None else float(live_value) - float(bt_value)
        rows.append([metric, live_value, bt_value, diff])
    return rows


def sections(data: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    summary_rows = [
        [m, e["fills"], e["volume_lots"], e["pnl_quote"], e["spread_captured_bps"], e["markout_1s_bps"],
         e["markout_5s_bps"], e["markout_30s_bps"], e["max_abs_position_lots"], e["end_position_lots"]]
        for m, e in data["markets"].items()
    ]  # fmt: skip
    out.append(("Trading", html.table(SUMMARY_HEADERS, summary_rows)))
    out.append(("PnL attribution (quote currency)", html.table(ATTRIBUTION_HEADERS, attribution_rows(data))))
    out.append(("Live vs backtest drift", html.table(DRIFT_HEADERS, drift_rows(data))))
    versions = [
        [v["version"], v["live_from"], v["promoted_at"], v["stage_now"]] for v in data["model_versions"]
    ]
    out.append(("Model versions live", html.table(["version", "live", "promoted at", "stage now"], versions)))
    shadow = data["shadow"]
    if shadow is None:
        out.append(("Shadow challenger", f"<p class='note'>{data['shadow_note']}</p>"))
    else:
        rows = [[who, s["moves"], s["accuracy"]] for who, s in shadow.items()]
        out.append(("Shadow challenger vs production", html.table(["model", "moves", "accuracy"], rows)))
    return out


SUMMARY_HEADERS = [
    "market", "fills", "volume (lots)", "PnL", "spread captured (bps)", "markout 1s (bps)",
    "markout 5s (bps)", "markout 30s (bps)", "max |position| (lots)", "end position (lots)",
]  # fmt: skip
ATTRIBUTION_HEADERS = ["market", *ATTRIBUTION_PARTS, "total"]
DRIFT_HEADERS = ["market", "metric", "live", "backtest", "live - backtest"]


def attribution_rows(data: dict[str, Any]) -> list[list[Any]]:
    return [
        [m, *(e["attribution_quote"][k] for k in (*ATTRIBUTION_PARTS, "total"))]
        for m, e in data["markets"].items()
    ]


def drift_rows(data: dict[str, Any]) -> list[list[Any]]:
    return [[m, *row] for m, e in data["markets"].items() for row in e.get("drift") or []]


def _figures(data: dict[str, Any], series: dict[str, Any]) -> dict[str, bytes]:
    markets = list(data["markets"])
    pnl = {m: ([p[0] for p in pts], [p[1] for p in pts]) for m, pts in series["pnl"].items()}
    inventory = {
        m: ([p[0] for p in pts], [float(p[1]) for p in pts]) for m, pts in series["inventory"].items()
    }
    attribution = {
        part: [data["markets"][m]["attribution_quote"][part] or 0.0 for m in markets]
        for part in ATTRIBUTION_PARTS
    }
    markouts = {
        f"{h}s": [data["markets"][m][f"markout_{h}s_bps"] or 0.0 for m in markets] for h in (1, 5, 30)
    }
    return {
        "cumulative_pnl": plots.line_plot("Cumulative PnL", pnl, "quote"),
        "inventory": plots.line_plot("Inventory", inventory, "lots"),
        "attribution": plots.grouped_bars("PnL attribution", markets, attribution, "quote"),
        "markouts": plots.grouped_bars("Markouts", markets, markouts, "bps"),
    }
