"""Settings for the engine's HTTP control API."""

from __future__ import annotations

import ipaddress

from pydantic import BaseModel, Field, SecretStr, model_validator


class ControlSettings(BaseModel):
    host: str = Field(default="127.0.0.1", description="Bind address of the control API.")
    port: int = Field(default=8787, ge=0, le=65535, description="Port of the control API (0 = any free).")
    token: SecretStr | None = Field(
        default=None,
        description="Bearer token for POST /pause, /resume, /halt, /flatten, /cancel-all, /reload.",
    )

    @model_validator(mode="after")
    def _token_required_off_loopback(self) -> ControlSettings:
        if not is_loopback(self.host) and self.token is None:
            raise ValueError(
                f"control.host={self.host} is not loopback: set FLASHMM_CONTROL__TOKEN or bind 127.0.0.1"
            )
        return self


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
