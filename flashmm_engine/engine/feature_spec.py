"""The feature spec of this engine's markets: the default one, plus the reference market when the Binance
reference feed is on (engine/reference.py). Served models must pin exactly this spec."""

from __future__ import annotations

from flashmm_engine.config.settings import Settings
from flashmm_engine.features.spec import FeatureSpec


def reference_market(settings: Settings) -> str | None:
    """The reference's market name in the feature spec (None: no reference feed configured)."""
    engine = settings.engine
    if not engine.reference_feed:
        return None
    return f"binance-{settings.binance.market}:{engine.reference_symbol.upper()}"


def engine_feature_spec(settings: Settings) -> FeatureSpec:
    """The feature spec every market of this engine computes, and every served model must pin."""
    return FeatureSpec(reference_market=reference_market(settings))
