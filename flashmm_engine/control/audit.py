"""The audit trail of control actions, in the SQL store beside the ledger (table from migration 0004).

Writes go through the ledger journal's single writer thread, so they never block the event loop and
keep their order with the engine events they caused.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()
control_audit = sa.Table(
    "control_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at_ns", sa.BigInteger, nullable=False),
    sa.Column("instance_id", sa.String(32), nullable=False),
    sa.Column("token_id", sa.String(16), nullable=True),
    sa.Column("peer", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("result", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
)

DETAIL_CAP = 2_000
"""Characters of detail kept per row."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at_ns: int
    instance_id: str
    token_id: str | None
    peer: str
    action: str
    result: str
    detail: dict[str, Any]


def record(engine: sa.Engine, entry: AuditEntry) -> None:
    detail = json.dumps(entry.detail, default=str)
    if len(detail) > DETAIL_CAP:
        detail = json.dumps({"truncated": detail[:DETAIL_CAP]})
    with engine.begin() as conn:
        conn.execute(
            sa.insert(control_audit).values(
                at_ns=entry.at_ns,
                instance_id=entry.instance_id,
                token_id=entry.token_id,
                peer=entry.peer[:64],
                action=entry.action[:32],
                result=entry.result[:32],
                detail=detail,
            )
        )


def entries(engine: sa.Engine, since_ns: int = 0) -> list[AuditEntry]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(control_audit).where(control_audit.c.at_ns >= since_ns).order_by(control_audit.c.id)
        ).all()
    return [
        AuditEntry(r.at_ns, r.instance_id, r.token_id, r.peer, r.action, r.result, json.loads(r.detail))
        for r in rows
    ]


def now_entry(
    instance_id: str, token_id: str | None, peer: str, action: str, result: str, **detail: Any
) -> AuditEntry:
    return AuditEntry(time.time_ns(), instance_id, token_id, peer, action, result, detail)
