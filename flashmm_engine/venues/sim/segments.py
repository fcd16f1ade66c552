"""Reading back the raw segments the engine records from the sim venue: `<ts_local_ns> <raw frame>` lines
(gzip, hourly) with a `<segment>.spec.json` sidecar, decoded by the same code as the live client."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from flashmm_engine.errors import InputError
from flashmm_engine.marketdata.capture import BadLine, iter_lines, split_line
from flashmm_engine.marketdata.spec import InstrumentSpec, recorded_spec
from flashmm_engine.types import MarketEvent
from flashmm_engine.venues.sim.depth_image import RECORDER_ORIGIN
from flashmm_engine.venues.sim.market_messages import decode_market_message
from flashmm_engine.venues.sim.protocol import ProtocolError


@dataclass
class SimSegment:
    path: Path
    spec: InstrumentSpec
    messages: int = 0
    openings: int = 0  # snapshots the recorder wrote at the top of an hour (not frames the venue sent)
    events: list[MarketEvent] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    malformed: Counter[str] = field(default_factory=Counter)


def read_sim_segment(path: Path) -> SimSegment:
    """Every received frame of one segment; a line that does not decode is counted by reason, never
    fatal; the recorder's own opening snapshots are counted apart."""
    spec = recorded_spec(path)
    if spec is None:
        raise InputError(f"{path}: no spec sidecar {path.name}.spec.json beside the segment")
    segment = SimSegment(path, spec)
    for line in iter_lines(path):
        segment.messages += 1
        try:
            _, raw = split_line(line)
            msg = orjson.loads(raw)
            if not isinstance(msg, dict):
                raise ProtocolError("not a JSON object")
            if msg.get("origin") == RECORDER_ORIGIN:
                segment.messages -= 1
                segment.openings += 1
                continue
            decoded = decode_market_message(msg)
        except BadLine:
            segment.malformed["line"] += 1
            continue
        except (orjson.JSONDecodeError, ProtocolError, KeyError, TypeError, ValueError) as exc:
            segment.malformed[type(exc).__name__] += 1
            continue
        segment.kinds[str(msg["type"])] += 1
        segment.events.extend(decoded)
    return segment
