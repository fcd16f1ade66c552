"""The control API's client for the CLI: plain blocking HTTP (one request per command), the token from
FLASHMM_CONTROL__TOKEN or a token file, and one clear line when the engine is not there."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pydantic import SecretStr

from flashmm_engine.config.secret_files import SecretFileError, read_secret_file
from flashmm_engine.errors import CommandFailed, InputError

REQUEST_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class ControlReply:
    status: int
    body: dict[str, Any]


def read_token_file(path: Path) -> SecretStr:
    """The control token from a file that only its owner may access (refused otherwise, as ssh refuses
    a key file others can read)."""
    try:
        token = read_secret_file(path, "--token-file")
    except SecretFileError as exc:
        raise InputError(str(exc)) from None
    if not token.get_secret_value():
        raise InputError(f"--token-file {path}: empty")
    return token


class ControlClient:
    def __init__(self, host: str, port: int, token: SecretStr | None) -> None:
        self.host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        self.port = port
        self._token = token

    @property
    def where(self) -> str:
        return f"http://{self.host}:{self.port}"

    def get(self, path: str) -> ControlReply:
        return self._request("GET", path, {})

    def post(self, action: str, market: str | None = None) -> ControlReply:
        if self._token is None:
            raise InputError(
                f"{action} needs the control token: set FLASHMM_CONTROL__TOKEN or pass --token-file"
            )
        path = f"/{action}" + (f"?{urlencode({'market': market})}" if market else "")
        headers = {"Authorization": f"Bearer {self._token.get_secret_value()}"}
        return self._request("POST", path, headers)

    def _request(self, method: str, path: str, headers: dict[str, str]) -> ControlReply:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT_S)
        try:
            conn.request(method, path, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except ConnectionRefusedError:
            raise CommandFailed(f"the engine is not running (nothing listens on {self.where})") from None
        except (OSError, http.client.HTTPException) as exc:
            raise CommandFailed(f"the engine's control API at {self.where} failed: {exc}") from None
        finally:
            conn.close()
        try:
            body = json.loads(raw)
        except ValueError:
            raise CommandFailed(f"{self.where}{path}: not a JSON answer (HTTP {response.status})") from None
        if not isinstance(body, dict):
            raise CommandFailed(f"{self.where}{path}: unexpected answer {body!r:.200}")
        return ControlReply(response.status, body)
