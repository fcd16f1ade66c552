"""Everything hot reload needs for one engine: the swapper, the registry poll, the Redis stream consumer
(when Redis is configured) and the shadow challenger (when enabled), with one status snapshot."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from flashmm_engine.config.settings import Settings
from flashmm_engine.engine.feature_spec import engine_feature_spec
from flashmm_engine.engine.reload.poll import REGISTRY_ERRORS, RegistryPoller, candidate_of
from flashmm_engine.engine.reload.predictions import PredictionBuffer, PredictionStore
from flashmm_engine.engine.reload.shadow import ShadowChallenger
from flashmm_engine.engine.reload.stream import ModelStreamConsumer
from flashmm_engine.engine.reload.swap import ModelSwapper, checked_load
from flashmm_engine.engine.reload.types import Candidate, ModelStatus
from flashmm_engine.ledger.journal import LedgerJournal
from flashmm_engine.models.loader import LatencyCheck, LoadedModel, ModelRefused
from flashmm_engine.models.registry import ModelRegistry, RegistryError
from flashmm_engine.service.tasks import TaskTracker
from flashmm_engine.types import FeedView

log = logging.getLogger(__name__)

SHADOW_TRIED_CAP = 64
"""Challenger versions remembered as already loaded or refused."""


class ModelReload:
    def __init__(
        self, settings: Settings, journal: LedgerJournal, on_swap: Callable[[LoadedModel], None]
    ) -> None:
        name = settings.engine.model_name
        if name is None:
            raise ValueError("hot reload needs engine.model_name")
        self.settings = settings
        self.name = name
        self.instance_id = settings.engine.instance_id
        self._journal = journal
        r = settings.reload
        latency = LatencyCheck(settings.quoting.ml_inference_budget_us * 1_000, r.latency_calls)
        self.swapper = ModelSwapper(
            name, engine_feature_spec(settings).spec_hash(), latency, self._record, on_swap
        )
        self.registry: ModelRegistry | None = None
        self.poller: RegistryPoller | None = None
        self.stream: ModelStreamConsumer | None = None
        self.shadow: ShadowChallenger | None = None
        self._shadow_pinned: Candidate | None = None
        self._shadow_tried: set[tuple[str, str]] = set()

    def _record(self, kind: str, detail: dict[str, Any]) -> None:
        journal = self._journal
        journal.submit(journal.ledger.record_event, self.instance_id, kind, detail, None, time.time_ns())

    async def open(self) -> LoadedModel | None:
        """Open the registry and serve its production version (a refusal leaves no model: base quotes)."""
        url = self.settings.database.resolved_url
        self.registry = registry = await asyncio.to_thread(ModelRegistry, url)
        r = self.settings.reload
        if r.shadow:
            store = PredictionStore(url, r.predictions_cap_rows)
            sink = PredictionBuffer(store, r.predictions_batch_rows)
            self.shadow = ShadowChallenger(self.name, self.instance_id, r.shadow_budget_us * 1_000, sink)
        self.poller = RegistryPoller(registry, self.swapper, r.poll_interval_s, self._refresh_shadow)
        await self.poller.check("start")
        if self.settings.redis.url is not None:
            self.stream = ModelStreamConsumer(
                self.settings.redis.url.get_secret_value(),
                r,
                f"engine-{self.instance_id}",
                self.instance_id,
                self._on_message,
                lambda: self._poll("reconnect"),
            )
        return self.swapper.current

    def start(self, tasks: TaskTracker, stop: asyncio.Event) -> None:
        assert self.poller is not None
        tasks.spawn(self.poller.run(stop), "model-poll")
        if self.stream is not None:
            tasks.spawn(self.stream.run(stop), "model-stream")
        if self.shadow is not None:
            tasks.spawn(self.shadow.sink.run(self.settings.reload.predictions_flush_s, stop), "predictions")

    @property
    def after_cycle(self) -> Callable[[str, FeedView], None] | None:
        return self.shadow.after_cycle if self.shadow is not None else None

    async def check_now(self) -> dict[str, Any]:
        """`POST /reload`: ask the registry now, as a poll would; answers what is served afterwards."""
        await self._poll("control")
        status = self.status()
        return {"version": status.version, "source": status.source, "refusals": status.refusals}

    async def _poll(self, source: str) -> None:
        assert self.poller is not None
        await self.poller.check(source)

    async def _on_message(self, message: dict[str, str]) -> None:
        """A stream entry means "look now": the registry's production row decides what is served; when
        the store cannot be read, the entry itself is the candidate."""
        if message["name"] != self.name:
            return
        assert self.poller is not None
        try:
            candidate = await self.poller.production()
        except REGISTRY_ERRORS as exc:
            log.warning("model registry unreadable (%s): loading what the stream names", type(exc).__name__)
            candidate = Candidate(**message)
        if candidate is not None:
            await self.swapper.ensure(candidate, "stream")

    async def _refresh_shadow(self, registry: ModelRegistry) -> None:
        """The configured challenger, or the latest validated version when none is pinned."""
        shadow = self.shadow
        if shadow is None:
            return
        pinned = self.settings.reload.shadow_version
        if pinned is not None:
            try:
                version = await asyncio.to_thread(registry.get, self.name, pinned)
            except RegistryError as exc:
                if (pinned, "") not in self._shadow_tried:
                    self._shadow_tried.add((pinned, ""))
                    log.error("shadow challenger: %s", exc)
                return
        else:
            latest = await asyncio.to_thread(registry.latest, self.name, "validated")
            if latest is None:
                return
            version = latest
        candidate = candidate_of(version)
        key = (candidate.version, candidate.sha256)
        if key in self._shadow_tried:
            return
        if len(self._shadow_tried) >= SHADOW_TRIED_CAP:
            self._shadow_tried.clear()  # forgets old refusals: at worst one more attempt each
        self._shadow_tried.add(key)
        try:
            loaded = await asyncio.to_thread(
                checked_load, candidate, self.swapper.spec_hash, self.swapper.latency
            )
        except ModelRefused as exc:
            shadow.refusals += 1
            log.error("shadow challenger %s refused: %s", candidate.version, exc)
            self._record(
                "shadow_refused",
                {
                    "name": self.name,
                    "version": candidate.version,
                    "reason": type(exc).__name__,
                    "message": str(exc),
                },
            )
            return
        shadow.replace(loaded)
        self._record("shadow_started", {"name": self.name, "version": loaded.version})

    def status(self) -> ModelStatus:
        s, p = self.swapper, self.poller
        current = s.current
        return ModelStatus(
            name=self.name,
            version=current.version if current is not None else None,
            sha256=s.current_sha256,
            loaded_at_ns=s.loaded_at_ns,
            created_at=str(current.manifest.get("created_at")) if current is not None else None,
            source=s.source,
            reloads=s.reloads,
            refusals=s.refusals,
            refusals_by_reason=dict(s.refusals_by_reason),
            last_refusal=s.last_refusal,
            polls=p.polls if p else 0,
            poll_errors=p.errors if p else 0,
            last_poll_ns=p.last_poll_ns if p else None,
            poll_interval_s=self.settings.reload.poll_interval_s,
            stream=self.stream.status() if self.stream is not None else None,
            shadow=self.shadow.status() if self.shadow is not None else None,
        )

    async def close(self) -> None:
        if self.shadow is not None:
            await self.shadow.sink.close()
        self.swapper.close()
        if self.registry is not None:
            self.registry.close()
