"""The sim venue's published depth, as a subscriber has received it (the subscribe snapshot plus every depth
change since), so a raw segment can open with the snapshot the venue would send a new subscriber now.

The venue's depth messages are diffs between successive images of its top levels, so the received image
is exactly the venue's own after the last `seq` received.
"""

from __future__ import annotations

import orjson

MAX_IMAGE_LEVELS = 10_000
"""Levels kept per side; a venue publishing more (it publishes only its top levels) makes the image
unknown."""
RECORDER_ORIGIN = "recorder"
"""`origin` of a snapshot line a recorder wrote from the received image (not a frame the venue sent)."""


class SimDepthImage:
    """Fed every raw market-data frame of one market in arrival order; frames that do not decode are left to
    the client, which counts them."""

    __slots__ = ("asks", "bids", "market", "seq")

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.market: str | None = None
        self.seq: int | None = None

    def observe(self, raw: bytes | str) -> None:
        try:
            msg = orjson.loads(raw)
            kind = msg["type"]
            if kind == "snapshot":
                self.bids = {int(p): int(s) for p, s in msg["bids"] if s}
                self.asks = {int(p): int(s) for p, s in msg["asks"] if s}
            elif kind == "depth":
                if self.seq is None:
                    return
                for side, price, size in msg["changes"]:
                    levels = self.bids if side == 1 else self.asks
                    if size:
                        levels[int(price)] = int(size)
                    else:
                        levels.pop(int(price), None)
            else:
                return
            self.market, self.seq = str(msg["market"]), int(msg["seq"])
            if max(len(self.bids), len(self.asks)) > MAX_IMAGE_LEVELS:
                self.bids, self.asks, self.seq = {}, {}, None
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return

    def snapshot_frame(self, ts_ns: int) -> bytes | None:
        """A `snapshot` message of the current image (None before the first snapshot was received)."""
        if self.seq is None or self.market is None:
            return None
        return orjson.dumps(
            {
                "type": "snapshot",
                "market": self.market,
                "seq": self.seq,
                "ts": ts_ns,
                "bids": sorted(self.bids.items(), reverse=True),
                "asks": sorted(self.asks.items()),
                "origin": RECORDER_ORIGIN,
            }
        )
