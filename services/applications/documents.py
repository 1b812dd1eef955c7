"""Documents and identity numbers. A file's type is read from its content (filetype), never its name;
Aadhaar and PAN are checked with python-stdnum; the full Aadhaar number is kept only encrypted in the vault."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

import asyncpg
import filetype
from cryptography.fernet import Fernet, MultiFernet
from fastapi import Request
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.in_ import aadhaar, pan

from contract import DOCUMENTS_WHEN_ASKED, MAX_DOCUMENT_BYTES, REQUIRED_DOCUMENTS
from services.common.errors import ApiError
from services.common.runtime import ApplicationsContext

MAX_BYTES = MAX_DOCUMENT_BYTES
ALLOWED = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
REQUIRED = REQUIRED_DOCUMENTS
WHEN_ASKED = DOCUMENTS_WHEN_ASKED
KINDS = REQUIRED + WHEN_ASKED


def _fernet(ctx: ApplicationsContext) -> MultiFernet:
    """The vault's keys, newest first: the first seals, every one opens, so a key is rotated by putting a new
    one first and re-sealing (`MultiFernet.rotate`) before the old one is dropped."""
    return MultiFernet(
        [
            Fernet(base64.urlsafe_b64encode(hashlib.sha256(k.strip().encode()).digest()))
            for k in ctx.settings.vault_keys.split(",")
            if k.strip()
        ]
    )


async def store_document(ctx: ApplicationsContext, employee_id: str, kind: str, content: bytes) -> dict[str, Any]:
    if kind not in KINDS:
        raise ApiError(
            404,
            "unknown_document_kind",
            f"{kind!r} is not a document this application takes; the kinds are: {', '.join(KINDS)}.",
        )
    if len(content) > MAX_BYTES:
        raise ApiError(
            413,
            "document_too_large",
            f"A document may be at most 5 MB ({MAX_BYTES:,} bytes); this one is "
            "larger. Scan at a lower resolution or as PDF.",
        )
    if not content:
        raise ApiError(422, "document_empty", "The file is empty.")
    media_type = filetype.guess_mime(content)
    if media_type not in ALLOWED:
        found = media_type or "not a recognisable file"
        raise ApiError(
            415,
            "unsupported_document_type",
            f"Upload a PDF, JPEG or PNG; this file is {found}, whatever its name says.",
        )
    sha = hashlib.sha256(content).hexdigest()
    async with ctx.pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('doc:' || $1))", employee_id)
        version = await conn.fetchval(
            "SELECT coalesce(max(version), 0) + 1 FROM applications.document WHERE employee_id = $1 AND kind = $2",
            employee_id,
            kind,
        )
        await conn.execute(
            "INSERT INTO applications.document (employee_id, kind, version, media_type, size_bytes, "
            "sha256, content) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            employee_id,
            kind,
            version,
            media_type,
            len(content),
            sha,
            content,
        )
    return {"kind": kind, "version": version, "media_type": media_type, "size_bytes": len(content), "sha256": sha}


async def latest_documents(conn: asyncpg.Connection, employee_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT DISTINCT ON (kind) kind, version, media_type, size_bytes, sha256, uploaded_at "
        "FROM applications.document WHERE employee_id = $1 ORDER BY kind, version DESC",
        employee_id,
    )
    return [dict(r) for r in rows]


async def identity_of(ctx: ApplicationsContext, employee_id: str) -> dict[str, Any]:
    """What the employee gave, as the review shows it: the Aadhaar number by its last four, the PAN."""
    row = await ctx.pool.fetchrow(
        "SELECT aadhaar_last4, pan FROM applications.identity WHERE employee_id = $1", employee_id
    )
    if row is None:
        raise ApiError(404, "identity_missing", "Your Aadhaar number and PAN have not been given yet.")
    return {"aadhaar": f"XXXX XXXX {row['aadhaar_last4']}", "pan": row["pan"]}


async def store_identity(
    ctx: ApplicationsContext, employee_id: str, aadhaar_number: str, pan_number: str
) -> dict[str, Any]:
    try:
        digits = aadhaar.validate(aadhaar_number)
    except StdnumError:
        raise ApiError(
            422,
            "invalid_aadhaar",
            "The Aadhaar number is not valid: it must be 12 digits with a correct "
            "check digit. Copy it again from the Aadhaar card.",
        ) from None
    try:
        pan_clean = pan.validate(pan_number)
    except StdnumError:
        raise ApiError(
            422, "invalid_pan", "The PAN is not valid: it has five letters, four digits and a letter, like ABCPE1234F."
        ) from None
    ref = uuid.uuid4()
    async with ctx.pool.acquire() as conn, conn.transaction():
        old_ref = await conn.fetchval(
            "SELECT aadhaar_ref FROM applications.identity WHERE employee_id = $1 FOR UPDATE", employee_id
        )
        await conn.execute(
            "INSERT INTO applications.aadhaar_vault (aadhaar_ref, ciphertext) VALUES ($1, $2)",
            ref,
            _fernet(ctx).encrypt(digits.encode()),
        )
        await conn.execute(
            "INSERT INTO applications.identity (employee_id, aadhaar_last4, aadhaar_ref, pan) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (employee_id) DO UPDATE SET aadhaar_last4 = excluded.aadhaar_last4, "
            "aadhaar_ref = excluded.aadhaar_ref, pan = excluded.pan, updated_at = now()",
            employee_id,
            digits[-4:],
            ref,
            pan_clean,
        )
        if old_ref is not None:
            await conn.execute("DELETE FROM applications.aadhaar_vault WHERE aadhaar_ref = $1", old_ref)
    return {"aadhaar": f"XXXX XXXX {digits[-4:]}", "pan": pan_clean}


async def read_capped(request: Request) -> bytes:
    """The request body, but never more than one byte past the limit held in memory."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        chunks.append(chunk)
        if size > MAX_BYTES:
            break
    return b"".join(chunks)


async def mine(ctx: ApplicationsContext, employee_id: str) -> list[dict[str, Any]]:
    """The employee's documents, the latest version of each kind."""
    async with ctx.pool.acquire() as conn:
        return await latest_documents(conn, employee_id)
