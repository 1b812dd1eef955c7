"""Employee sessions: after a right OTP the OTP service signs a short-lived token with its Ed25519 key, and
every other service checks it with the public half. No secret is shared between services, so a leak of
any one service's configuration cannot mint sessions."""

from __future__ import annotations

import base64
import hashlib
import time
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SESSION_ISSUER = "seva-suraksha-otp"
SESSION_AUDIENCE = "seva-suraksha"


@lru_cache(maxsize=8)  # built once per process, not on every sign-in
def signing_key(seed: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed.encode()).digest())


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The public key as base64 of its 32 raw bytes: what SEVA_SESSION_PUBLIC_KEY holds."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


@lru_cache(maxsize=8)  # parsed once per process, not on every request
def public_key(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text))


def sign_session(key: Ed25519PrivateKey, employee_id: str, ttl_seconds: int) -> str:
    now = int(time.time())
    return jwt.encode(
        {
            "sub": employee_id,
            "role": "employee",
            "iss": SESSION_ISSUER,
            "aud": SESSION_AUDIENCE,
            "iat": now,
            "exp": now + ttl_seconds,
        },
        key,
        algorithm="EdDSA",
    )


def read_session(public: Ed25519PublicKey, token: str) -> dict[str, Any]:
    """The claims of a genuine, unexpired session; raises jwt.PyJWTError otherwise."""
    return jwt.decode(
        token,
        public,
        algorithms=["EdDSA"],
        issuer=SESSION_ISSUER,
        audience=SESSION_AUDIENCE,
        options={"require": ["exp", "sub", "iss", "aud"]},
    )
