"""Runs after the officers' decisions of the suite: the audit chains verify with `seva audit verify`, the
table refuses UPDATE, DELETE and TRUNCATE, a row edited behind the trigger's back is found, and so is a log
rewritten as a whole (every hash recomputed) once its head has been published outside the database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from services.common.audit import verify

pytestmark = pytest.mark.stack
SEVA = str(Path(sys.executable).parent / "seva")


def seva_audit_verify(stack, *heads: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SEVA, "audit", "verify", "--database-url", stack.database_url, *heads], capture_output=True, text=True
    )


async def test_a_wholesale_rewrite_is_found_against_the_published_heads(stack, db, tmp_path):
    published = subprocess.run(
        [
            SEVA,
            "audit",
            "publish",
            "--database-url",
            stack.database_url,
            "--out",
            str(tmp_path),
            "--kafka",
            stack.kafka_bootstrap,
        ],
        capture_output=True,
        text=True,
    )
    assert published.returncode == 0, published.stdout + published.stderr
    [heads_file] = tmp_path.glob("heads-*.jws")
    done = seva_audit_verify(stack, "--heads", str(heads_file))
    assert done.returncode == 0 and "verification  ok" in done.stdout, done.stdout + done.stderr

    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await db.execute("TRUNCATE verification.audit_log")

    # Someone with the superuser rewrites the whole log, one decision changed, every hash recomputed: the chain
    # alone cannot tell; the published head can.
    from services.common.audit import GENESIS, _hash

    original = await db.fetch("SELECT seq, body, prev_hash, hash FROM verification.audit_log ORDER BY seq")
    assert len(original) >= 2
    async with db.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute("DELETE FROM verification.audit_log")
        prev = GENESIS
        for row in original:
            body = (
                row["body"].replace('"after":"verified"', '"after":"rejected"', 1) if row["seq"] == 1 else row["body"]
            )
            await conn.execute(
                "INSERT INTO verification.audit_log (seq, body, prev_hash, hash) VALUES ($1, $2, $3, $4)",
                row["seq"],
                body,
                prev,
                _hash(prev, body),
            )
            prev = _hash(prev, body)
    try:
        async with db.acquire() as conn:
            assert (await verify(conn, "verification")).ok  # the chain itself is consistent
        done = seva_audit_verify(stack, "--heads", str(heads_file))
        assert done.returncode == 1 and "verification  REWRITTEN" in done.stdout, done.stdout
    finally:
        async with db.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute("DELETE FROM verification.audit_log")
            await conn.executemany(
                "INSERT INTO verification.audit_log (seq, body, prev_hash, hash) VALUES ($1, $2, $3, $4)",
                [tuple(r) for r in original],
            )
    # a forged heads file is refused
    forged = tmp_path / "forged.jws"
    forged.write_text(heads_file.read_text().strip()[:-4] + "AAAA")
    done = seva_audit_verify(stack, "--heads", str(forged))
    assert done.returncode == 1 and "not a genuine publication" in done.stdout


async def test_an_empty_or_missing_log_is_said_to_be_so(db):
    async with db.acquire() as conn:
        missing = await verify(conn, "no_such_schema")
        assert missing.state == "missing" and not missing.ok
        await conn.execute(
            "CREATE SCHEMA IF NOT EXISTS audit_probe; CREATE TABLE IF NOT EXISTS audit_probe.audit_log "
            "(seq bigint PRIMARY KEY, body text NOT NULL, prev_hash text NOT NULL, hash text NOT NULL)"
        )
        empty = await verify(conn, "audit_probe")
        assert empty.state == "empty" and not empty.ok
        await conn.execute("DROP SCHEMA audit_probe CASCADE")


async def test_the_chain_verifies_and_an_edited_row_is_detected(stack, db):
    entries = await db.fetch("SELECT body FROM verification.audit_log ORDER BY seq")
    actions = {json.loads(e["body"])["action"] for e in entries}
    assert {"verification.verified", "verification.returned", "certificate.issue"} <= actions
    first = json.loads(entries[0]["body"])
    assert first["actor"].startswith("OFF-") and first["from"] == "127.0.0.1" and first["at"]
    assert {json.loads(e["body"])["action"] for e in await db.fetch("SELECT body FROM orders.audit_log")} >= {
        "post.create",
        "order.approve",
    }

    done = seva_audit_verify(stack)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verification  ok" in done.stdout

    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await db.execute("UPDATE verification.audit_log SET body = body WHERE seq = 1")
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await db.execute("DELETE FROM verification.audit_log WHERE seq = 1")

    # Someone with the database's superuser edits a decision, bypassing the trigger.
    async with db.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(
            "UPDATE verification.audit_log SET body = replace(body, '\"verified\"', '\"rejected\"') "
            'WHERE seq = (SELECT min(seq) FROM verification.audit_log WHERE body LIKE \'%"after":"verified"%\')'
        )
    async with db.acquire() as conn:
        check = await verify(conn, "verification")
    assert not check.ok and "changed" in check.problem
    done = seva_audit_verify(stack)
    assert done.returncode == 1 and "verification  BROKEN at entry" in done.stdout
