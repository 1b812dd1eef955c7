"""The audit log: every officer's decision, appended in the transaction of the decision, each row's hash
covering the previous row's hash, so an edited or removed row breaks the chain (`seva audit verify`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from .auth import Principal

GENESIS = "0" * 64


def _hash(prev_hash: str, body: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


async def append(
    conn: asyncpg.Connection,
    schema: str,
    actor: Principal,
    action: str,
    subject: str,
    *,
    from_addr: str | None,
    before: str | None,
    after: str | None,
    details: dict[str, Any] | None = None,
) -> int:
    """Append one entry (who, what, when, from where, the stage before and after). Call inside the
    transaction of the decision it records."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"audit:{schema}")
    last = await conn.fetchrow(f"SELECT seq, hash FROM {schema}.audit_log ORDER BY seq DESC LIMIT 1")
    seq, prev_hash = (last["seq"] + 1, last["hash"]) if last else (1, GENESIS)
    body = json.dumps(
        {
            "seq": seq,
            "at": datetime.now(UTC).isoformat(),
            "actor": actor.subject,
            "role": actor.role,
            "action": action,
            "subject": subject,
            "from": from_addr,
            "before": before,
            "after": after,
            "details": details or {},
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    await conn.execute(
        f"INSERT INTO {schema}.audit_log (seq, body, prev_hash, hash) VALUES ($1, $2, $3, $4)",
        seq,
        body,
        prev_hash,
        _hash(prev_hash, body),
    )
    return seq


SCHEMAS = ("otp", "applications", "verification", "orders")


@dataclass(frozen=True)
class Head:
    """The last entry of a chain when it was published: its number and hash."""

    seq: int
    hash: str


@dataclass
class ChainCheck:
    schema: str
    entries: int
    broken_at: int | None = None
    problem: str = ""
    state: str = "ok"  # ok | empty | missing | broken | rewritten

    @property
    def ok(self) -> bool:
        return self.state == "ok"


async def verify(conn: asyncpg.Connection, schema: str, published: Head | None = None) -> ChainCheck:
    """Walk the chain from the first entry. An empty or missing chain is said to be so, never "ok"; with a
    published head, the chain must still hold that entry with that hash, so that a log rewritten as a
    whole (every hash recomputed) is found too."""
    if await conn.fetchval("SELECT to_regclass($1)", f"{schema}.audit_log") is None:
        return ChainCheck(schema, 0, None, "there is no audit log table", "missing")
    expected_prev, expected_seq, count, hash_at_head = GENESIS, 1, 0, None
    async with conn.transaction():
        async for row in conn.cursor(f"SELECT seq, body, prev_hash, hash FROM {schema}.audit_log ORDER BY seq"):
            count += 1
            if row["seq"] != expected_seq:
                return ChainCheck(schema, count, row["seq"], f"entry {expected_seq} is missing", "broken")
            if row["prev_hash"] != expected_prev:
                return ChainCheck(schema, count, row["seq"], "does not follow the entry before it", "broken")
            if _hash(row["prev_hash"], row["body"]) != row["hash"] or json.loads(row["body"]).get("seq") != row["seq"]:
                return ChainCheck(schema, count, row["seq"], "its content was changed after it was written", "broken")
            if published is not None and row["seq"] == published.seq:
                hash_at_head = row["hash"]
            expected_prev, expected_seq = row["hash"], expected_seq + 1
    if published is not None and published.seq > 0:
        if count < published.seq:
            return ChainCheck(
                schema,
                count,
                count + 1,
                f"the published head was entry {published.seq}; the log now ends at {count}",
                "rewritten",
            )
        if hash_at_head != published.hash:
            return ChainCheck(
                schema,
                count,
                published.seq,
                "the entry differs from the published head: the log was rewritten",
                "rewritten",
            )
    if count == 0:
        return ChainCheck(schema, 0, None, "the log has no entries", "empty")
    return ChainCheck(schema, count)


async def heads(conn: asyncpg.Connection) -> dict[str, Head]:
    """Each chain's last entry now (seq 0 for an empty chain)."""
    out = {}
    for schema in SCHEMAS:
        row = await conn.fetchrow(f"SELECT seq, hash FROM {schema}.audit_log ORDER BY seq DESC LIMIT 1")
        out[schema] = Head(row["seq"], row["hash"]) if row else Head(0, GENESIS)
    return out


def sign_heads(key: Any, found: dict[str, Head], at: datetime) -> str:
    """A compact JWS (Ed25519) of every chain's head: what is published daily, outside the database."""
    import jwt

    return jwt.encode(
        {
            "iss": "seva-suraksha-audit",
            "iat": int(at.timestamp()),
            "at": at.isoformat(),
            "heads": {k: {"seq": h.seq, "hash": h.hash} for k, h in found.items()},
        },
        key,
        algorithm="EdDSA",
    )


def read_heads(public_key: Any, token: str) -> tuple[datetime, dict[str, Head]]:
    """The heads of a genuine publication; raises jwt.PyJWTError for anything we did not sign."""
    import jwt

    claims = jwt.decode(
        token, public_key, algorithms=["EdDSA"], issuer="seva-suraksha-audit", options={"require": ["iss", "iat"]}
    )
    return datetime.fromisoformat(claims["at"]), {k: Head(int(v["seq"]), v["hash"]) for k, v in claims["heads"].items()}
