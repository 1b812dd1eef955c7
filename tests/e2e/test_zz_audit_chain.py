"""Runs after the officers' decisions of the suite: the audit chains verify with `seva audit verify`, the
table refuses UPDATE and DELETE, and a row edited behind the trigger's back is found."""
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


def seva_audit_verify(stack) -> subprocess.CompletedProcess:
    return subprocess.run([SEVA, "audit", "verify", "--database-url", stack.database_url], capture_output=True, text=True)


async def test_the_chain_verifies_and_an_edited_row_is_detected(stack, db):
    entries = await db.fetch("SELECT body FROM verification.audit_log ORDER BY seq")
    actions = {json.loads(e["body"])["action"] for e in entries}
    assert {"verification.verified", "verification.returned", "certificate.issue"} <= actions
    first = json.loads(entries[0]["body"])
    assert first["actor"].startswith("OFF-") and first["from"] == "127.0.0.1" and first["at"]
    assert {json.loads(e["body"])["action"] for e in await db.fetch("SELECT body FROM orders.audit_log")} >= {
        "post.create", "order.approve"}

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
        await conn.execute("UPDATE verification.audit_log SET body = replace(body, '\"verified\"', '\"rejected\"') "
                           "WHERE seq = (SELECT min(seq) FROM verification.audit_log WHERE body LIKE '%\"after\":\"verified\"%')")
    async with db.acquire() as conn:
        check = await verify(conn, "verification")
    assert not check.ok and "changed" in check.problem
    done = seva_audit_verify(stack)
    assert done.returncode == 1 and "verification  BROKEN at entry" in done.stdout
