"""The shadow challenger: a second model predicts on the same feature vector as production after every
cycle (after the batch went out, so it never delays an order) and is never traded.

CPU budget per market: time over `reload.shadow_budget_us` in a cycle is debt, paid back by skipping
(and counting) shadow cycles, so on average the shadow costs at most its budget per cycle.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from flashmm_engine.engine.reload.predictions import PredictionBuffer
from flashmm_engine.engine.reload.types import ShadowStatus
from flashmm_engine.models.loader import LoadedModel
from flashmm_engine.strategy.prediction import ModelPredictor
from flashmm_engine.types import FeedView

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _MarketShadow:
    predictor: ModelPredictor
    debt_ns: int = 0


@dataclass
class ShadowChallenger:
    name: str
    instance_id: str
    budget_ns: int
    sink: PredictionBuffer
    clock: Callable[[], int] = time.perf_counter_ns
    model: LoadedModel | None = None
    predictions: int = 0
    skipped_over_budget: int = 0
    errors: int = 0
    refusals: int = 0
    _markets: dict[str, _MarketShadow] = field(default_factory=dict)

    def replace(self, model: LoadedModel) -> None:
        self.model = model
        self._markets.clear()
        log.info("shadow challenger: %s/%s", self.name, model.version)

    def after_cycle(self, market: str, view: FeedView) -> None:
        if self.model is None or view.features is None or view.top is None:
            return
        shadow = self._markets.get(market)
        if shadow is None:
            shadow = self._markets[market] = _MarketShadow(ModelPredictor.from_loaded(self.model, False))
        if shadow.debt_ns > 0:
            shadow.debt_ns = max(0, shadow.debt_ns - self.budget_ns)
            self.skipped_over_budget += 1
            return
        started = self.clock()
        try:
            prediction = shadow.predictor.predict(
                np.asarray(view.features, dtype=np.float32), view.top.mid_x2, view.ts_ns
            )
        except (RuntimeError, ValueError) as exc:
            self.errors += 1
            log.warning("shadow %s failed on %s: %s", self.model.version, market, type(exc).__name__)
            return
        elapsed = self.clock() - started
        shadow.debt_ns = max(0, elapsed - self.budget_ns)
        if prediction is None:
            return
        self.predictions += 1
        production = view.prediction
        self.sink.add(
            {
                "ts_ns": view.ts_ns,
                "instance_id": self.instance_id,
                "market": market,
                "model_name": self.name,
                "mid_x2": view.top.mid_x2,
                "production_version": production.version if production else None,
                "production_expected_bps": production.expected_return_bps if production else None,
                "production_probs": [list(p) for p in production.probs] if production else None,
                "shadow_version": prediction.version,
                "shadow_expected_bps": prediction.expected_return_bps,
                "shadow_probs": [list(p) for p in prediction.probs],
                "shadow_inference_ns": elapsed,
            }
        )

    def status(self) -> ShadowStatus:
        return ShadowStatus(
            self.model.version if self.model else None,
            self.predictions,
            self.skipped_over_budget,
            self.errors,
            self.sink.rows_written,
            self.sink.rows_dropped,
            self.sink.write_errors,
            self.refusals,
        )
