"""The running engine, observed."""

import dagster as dg

from flashmm_dagster.assets.common import md_table
from flashmm_dagster.assets.deploy import production_model
from flashmm_dagster.resources import FlashmmResource
from flashmm_engine.pipeline.live import observe

GROUP = "live"


@dg.asset(group_name=GROUP, deps=[production_model], kinds={"http"})
def live_trading(flashmm: FlashmmResource) -> dg.MaterializeResult:  # type: ignore[type-arg]
    """**Live trading**: the engine as its control API's `GET /status` shows it, observed every minute by
    the `live_trading_every_minute` schedule: state, PnL, position, the model version it serves and whether
    it quotes both sides. An engine that does not answer is recorded as `state: not running` (the
    materialization succeeds: the observation is that nothing runs). Downstream of `production_model`: the
    engine serves what was promoted, so the lineage runs from raw data to live trading."""
    seen = observe(flashmm.settings().pipeline.control_url)
    columns = ("market", "state", "position_lots", "pnl_quote", "quoted_spread_ticks", "fills")
    rows = [[m[c] for c in columns] for m in seen.markets]
    return dg.MaterializeResult(
        metadata={
            "state": seen.state,
            "detail": seen.detail,
            "url": dg.MetadataValue.url(seen.url),
            "model_version": seen.model_version or "none",
            "uptime_s": seen.uptime_s,
            "pnl_quote": seen.pnl_quote,
            "markets_quoting_both_sides": f"{seen.quoting_markets}/{len(seen.markets)}",
            "markets": md_table(
                ["market", "state", "position (lots)", "PnL", "quoted spread (ticks)", "fills"], rows
            ),
        }
    )
