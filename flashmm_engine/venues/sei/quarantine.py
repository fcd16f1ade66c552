"""Chain events that could not be decoded: counted, alerted once each, kept (capped) for inspection.

A quarantined event never holds back the events after it. Seeing it again unreadable (a replay of its
transaction) neither counts nor logs it again; a readable copy of it (say, from the tx index) is applied and
releases it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

MAX_QUARANTINED = 1_000
"""Quarantined events kept for inspection; older ones are dropped (the count keeps growing)."""

log = logging.getLogger(__name__)

EventKey = tuple[str, int, int]
"""(tx hash, message index, event index)."""


@dataclass(frozen=True, slots=True)
class QuarantinedEvent:
    key: EventKey
    event_type: str
    attrs: dict[str, str]
    error: str


class Quarantine:
    def __init__(self, cap: int = MAX_QUARANTINED) -> None:
        self._cap = cap
        self._events: OrderedDict[EventKey, QuarantinedEvent] = OrderedDict()
        self.count = 0
        self.released = 0

    def __contains__(self, key: EventKey) -> bool:
        return key in self._events

    def add(self, key: EventKey, event_type: str, attrs: dict[str, str], error: str) -> None:
        if key in self._events:
            return
        self.count += 1
        self._events[key] = QuarantinedEvent(key, event_type, dict(attrs), error)
        if len(self._events) > self._cap:
            self._events.popitem(last=False)
        log.error("ALERT: event %s:%d:%d (%s) quarantined: %s", *key, event_type, error)

    def release(self, key: EventKey) -> None:
        if self._events.pop(key, None) is not None:
            self.released += 1
            log.warning("event %s:%d:%d: a readable copy arrived, released from quarantine", *key)

    @property
    def events(self) -> list[QuarantinedEvent]:
        return list(self._events.values())
