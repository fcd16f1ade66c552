"""FeatureSpec: the feature names, their parameters and a version, with a stable hash."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import orjson

from flashmm_engine.types import NS_PER_MS

FEATURE_SPEC_VERSION = 2
NORMALIZATION = "v2: prices in spreads or ticks, returns in vol units, sizes in typical top sizes"


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """Parameters of every feature. Changing any of them changes `spec_hash`, so models pin a spec."""

    version: int = FEATURE_SPEC_VERSION
    tick_ms: int = 200
    depths: tuple[int, ...] = (3, 5, 10)
    slope_depth: int = 10
    return_windows_ms: tuple[int, ...] = (200, 1_000, 5_000, 30_000)
    ewm_half_lives_ms: tuple[int, ...] = (1_000, 5_000, 30_000)
    realized_windows_ms: tuple[int, ...] = (5_000, 30_000)
    flow_windows_ms: tuple[int, ...] = (1_000, 5_000, 30_000)
    activity_windows_ms: tuple[int, ...] = (1_000, 5_000)
    reference_market: str | None = None
    reference_return_windows_ms: tuple[int, ...] = (1_000, 5_000)
    scale_half_life_ms: int = 30_000
    """Half-life of the typical top-of-book size and spread that sizes and spreads are measured in."""
    normalization: str = NORMALIZATION

    @property
    def tick_ns(self) -> int:
        return self.tick_ms * NS_PER_MS

    @property
    def warmup_ns(self) -> int:
        longest = max(
            (
                *self.return_windows_ms,
                *self.ewm_half_lives_ms,
                *self.realized_windows_ms,
                *self.flow_windows_ms,
                self.scale_half_life_ms,
            )
        )
        return longest * NS_PER_MS

    def names(self) -> list[str]:
        """Every name says its unit: `_spread` (in current spreads), `_ticks`, `_z` (in units of the
        expected move over the window), `_depth` (in typical top-of-book sizes), `_rel` (to its own
        long-run level). Nothing is a raw price, size or absolute time, so features transfer across
        instruments and days."""
        names = ["imb_1", *(f"imb_{d}" for d in self.depths)]
        names += ["microprice_offset_spread", "spread_ticks", "log_spread_rel", "book_mid_offset_spread"]
        names += ["depth_slope_bid", "depth_slope_ask", "log_depth_bid", "log_depth_ask"]
        names += [f"ret_{w}ms_z" for w in self.return_windows_ms]
        names += [f"mid_change_rate_rel_{w}ms" for w in self.activity_windows_ms]
        names += [f"vol_spreads_{h}ms" for h in self.ewm_half_lives_ms]
        names += [f"realized_vol_spreads_{w}ms" for w in self.realized_windows_ms]
        for w in self.flow_windows_ms:
            names += [
                f"trade_imb_{w}ms",
                f"signed_volume_depth_{w}ms",
                f"log_volume_depth_{w}ms",
                f"trade_rate_rel_{w}ms",
                f"vwap_offset_spread_{w}ms",
                f"ofi_depth_{w}ms",
            ]
        names += ["log_time_since_trade_s", "log_time_since_mid_change_s", "log_time_since_book_s"]
        names += ["last_trade_side", "last_trade_offset_spread"]
        if self.reference_market is not None:
            names += ["ref_basis_bps", *(f"ref_ret_{w}ms_z" for w in self.reference_return_windows_ms)]
        return names

    def to_json_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json_dict(cls, data: dict[str, object]) -> FeatureSpec:
        converted = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**converted)  # type: ignore[arg-type]

    def spec_hash(self) -> str:
        """sha256 of the canonical JSON of all parameters and the feature names, first 16 hex digits."""
        payload = orjson.dumps(
            {"params": self.to_json_dict(), "names": self.names()}, option=orjson.OPT_SORT_KEYS
        )
        return hashlib.sha256(payload).hexdigest()[:16]


ODD_PREFIXES = (
    "imb_",
    "microprice_offset",
    "book_mid_offset",
    "ret_",
    "trade_imb_",
    "signed_volume_",
    "vwap_offset",
    "ofi_",
    "last_trade_side",
    "last_trade_offset",
    "ref_basis",
    "ref_ret_",
)
MIRROR_PAIRS = {"depth_slope_bid": "depth_slope_ask", "log_depth_bid": "log_depth_ask"}


def mirror_map(names: list[str]) -> tuple[list[int], list[float]]:
    """How features transform when the book is mirrored (bids <-> asks, up <-> down): the source index and
    sign of each feature in the mirrored vector. Direction-like features flip sign; bid/ask pairs swap."""
    pairs = MIRROR_PAIRS | {v: k for k, v in MIRROR_PAIRS.items()}
    source = [names.index(pairs[n]) if n in pairs else i for i, n in enumerate(names)]
    signs = [-1.0 if n.startswith(ODD_PREFIXES) else 1.0 for n in names]
    return source, signs
