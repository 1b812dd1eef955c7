"""The audit log: every officer's decision, appended in the transaction of the decision, each row's hash
covering the previous row's hash, so an edited or removed row breaks the chain (`seva audit verify`)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

import asyncpg

from .auth import Principal

GENESIS = "0" * 64


def _hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


async def append(conn: asyncpg.Connection, schema: str, actor: Principal, action: str, subject: str, *,
                 from_addr: str | None, before: str | None, after: str | None, details: dict | None = None) -> int:
    """Append one entry (who, what, when, from where, the stage before and after). Call inside the
    transaction of the decision it records."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"audit:{schema}")
    last = await conn.fetchrow(f"SELECT seq, hash FROM {schema}.audit_log ORDER BY seq DESC LIMIT 1")
    seq, prev_hash = (last["seq"] + 1, last["hash"]) if last else (1, GENESIS)
    body = json.dumps({"seq": seq, "at": datetime.now(timezone.utc).isoformat(), "actor": actor.subject,
                       "role": actor.role, "action": action, "subject": subject, "from": from_addr,
                       "before": before, "after": after, "details": details or {}},
                      sort_keys=True, separators=(",", ":"), default=str)
    await conn.execute(f"INSERT INTO {schema}.audit_log (seq, body, prev_hash, hash) VALUES ($1, $2, $3, $4)",
                       seq, body, prev_hash, _hash(prev_hash, body))
    return seq


@dataclass
class ChainCheck:
    schema: str
    entries: int
    broken_at: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


async def verify(conn: asyncpg.Connection, schema: str) -> ChainCheck:
    expected_prev, expected_seq, count = GENESIS, 1, 0
    async with conn.transaction():
        async for row in conn.cursor(f"SELECT seq, body, prev_hash, hash FROM {schema}.audit_log ORDER BY seq"):
            count += 1
            if row["seq"] != expected_seq:
                return ChainCheck(schema, count, row["seq"], f"entry {expected_seq} is missing")
            if row["prev_hash"] != expected_prev:
                return ChainCheck(schema, count, row["seq"], "does not follow the entry before it")
            if _hash(row["prev_hash"], row["body"]) != row["hash"] or json.loads(row["body"]).get("seq") != row["seq"]:
                return ChainCheck(schema, count, row["seq"], "its content was changed after it was written")
            expected_prev, expected_seq = row["hash"], expected_seq + 1
    return ChainCheck(schema, count)
