"""OTP codes derived, never stored. A code is six digits of HMAC-SHA256(key, challenge id), cut as in HOTP
(RFC 4226). The OTP service derives it in memory when the SMS goes to the gateway and again when the
employee types it in; tables, topics, dead letters, logs and histories hold only the challenge id, which is
worth nothing without the key (as a keyed hash of the code would be)."""

from __future__ import annotations

import hashlib
import hmac
import uuid


def otp_code(key: str, challenge_id: uuid.UUID | str) -> str:
    mac = hmac.new(key.encode(), f"otp:{challenge_id}".encode(), hashlib.sha256).digest()
    offset = mac[-1] & 0x0F
    return f"{(int.from_bytes(mac[offset : offset + 4], 'big') & 0x7FFFFFFF) % 10**6:06d}"


def is_right(key: str, challenge_id: uuid.UUID | str, typed: str) -> bool:
    return hmac.compare_digest(otp_code(key, challenge_id).encode(), typed.encode())


def confirmation_code(key: str, confirmation_id: uuid.UUID | str) -> str:
    """The code in a pre-season "is this your number?" link (services/otp/confirmation.py), derived like an OTP:
    the table and the SMS event hold only the confirmation id."""
    return hmac.new(key.encode(), f"confirm:{confirmation_id}".encode(), hashlib.sha256).hexdigest()[:12]


def is_confirmation_code(key: str, confirmation_id: uuid.UUID | str, typed: str) -> bool:
    return hmac.compare_digest(confirmation_code(key, confirmation_id).encode(), typed.encode())
