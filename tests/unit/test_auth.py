"""Sign-in checks that need no stack: an identity provider that does not answer is an outage (503 with
Retry-After), not the caller's bad token; a token from an issuer we do not trust is a 401."""

from __future__ import annotations

import socket
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from services.common.auth import decode_token
from services.common.errors import ApiError
from services.common.settings import Settings, use_settings


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def _token(issuer: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {"sub": "FIN-1", "role": "finance", "aud": "seva-suraksha", "iss": issuer, "iat": now, "exp": now + 60}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "seva"})


@pytest.fixture
def issuer(monkeypatch):
    url = f"http://127.0.0.1:{_closed_port()}/seva"
    monkeypatch.setenv("SEVA_OIDC_ISSUER", url)
    use_settings(Settings)
    yield url
    monkeypatch.delenv("SEVA_OIDC_ISSUER")
    use_settings(Settings)


async def test_an_identity_provider_that_does_not_answer_is_a_503_not_a_bad_token(issuer):
    with pytest.raises(ApiError) as raised:
        await decode_token(_token(issuer))
    assert raised.value.status == 503 and raised.value.code == "temporarily_unavailable"
    assert raised.value.details["retry_after_seconds"] > 0


async def test_a_token_from_an_issuer_we_do_not_trust_is_a_401(issuer):
    with pytest.raises(ApiError) as raised:
        await decode_token(_token("https://someone-else.example/realm"))
    assert raised.value.status == 401 and raised.value.code == "invalid_token"
