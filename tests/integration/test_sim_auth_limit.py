"""Failed authentications to the real sim venue process are rate-limited and never logged with the key."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from tests.integration.sim_process import sim_venue_process

GOOD_KEY = "the-right-key-0001"
WRONG_KEYS = tuple(f"guessed-key-{i:04d}" for i in range(7))
REPLY_TIMEOUT_S = 20.0

pytestmark = pytest.mark.integration


async def _auth(url: str, key: str) -> dict[str, object]:
    async with connect(url) as ws:
        await ws.send(json.dumps({"op": "auth", "key": key}))
        reply: dict[str, object] = json.loads(await asyncio.wait_for(ws.recv(), REPLY_TIMEOUT_S))
        return reply


async def test_failed_authentications_are_limited_and_the_offered_keys_never_logged(tmp_path: Path) -> None:
    env = {"FLASHMM_SIM__API_KEYS": json.dumps({"mm": GOOD_KEY}), "FLASHMM_SIM__PORT": "0"}
    with sim_venue_process([], env, tmp_path, secrets=(GOOD_KEY, *WRONG_KEYS)) as started:
        url = started["url"]
        assert (await _auth(url, GOOD_KEY))["type"] == "auth_ok"
        for key in WRONG_KEYS[:5]:
            reply = await _auth(url, key)
            assert reply["reason"] == "unauthorized" and key not in json.dumps(reply)
        refused = await _auth(url, WRONG_KEYS[5])
        assert refused["reason"] == "rate_limited" and "retry in" in str(refused["detail"])
        # while the peer is locked out even the right key is refused unchecked: guessing gains nothing
        assert (await _auth(url, GOOD_KEY))["reason"] == "rate_limited"
