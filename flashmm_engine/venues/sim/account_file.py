"""The sim venue's durable account balances (`sim.state_file`), so that a restarted venue process keeps its
accounts' money as a real exchange does.

One small JSON file: per API-key account its base (lots) and quote (notional units) in the venue's market.
It is rewritten atomically (temp file, fsync, rename) before the events of any execution are published, so
a client never learns of a fill the file does not include. What is not kept across a restart: resting
orders (the new process starts a new venue session with an empty book and a new event sequence) and the
event log. A file for another market, or one that cannot be parsed, stops the venue with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from flashmm_engine.errors import InputError
from flashmm_engine.venues.sim.matching import MatchingEngine

FORMAT = 1


def load_accounts(path: Path, market: str) -> dict[str, tuple[int, int]] | None:
    """account -> (base lots, quote units) from the file, or None when there is no file yet."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        doc = orjson.loads(raw)
        if doc["format"] != FORMAT or doc["market"] != market:
            raise InputError(
                f"sim.state_file {path}: holds format {doc['format']} of market {doc['market']!r}, "
                f"this venue serves {market!r} (format {FORMAT}); use another file"
            )
        return {str(a): (int(v["base"]), int(v["quote"])) for a, v in doc["accounts"].items()}
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"sim.state_file {path}: not a sim venue account file ({exc!r})") from None


def save_accounts(path: Path, engine: MatchingEngine, accounts: list[str], market: str) -> None:
    accounts_doc = {}
    for account in accounts:
        bal = engine.balance(account, market)
        accounts_doc[account] = {"base": bal.base, "quote": bal.quote}
    payload = orjson.dumps({"format": FORMAT, "market": market, "accounts": accounts_doc})
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, payload)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
