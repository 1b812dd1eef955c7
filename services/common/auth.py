"""Who is calling. Two kinds of bearer token, told apart by their issuer:

- an employee's session, signed by the OTP service's Ed25519 key after a right OTP (sessions.py);
- an officer's access token from the state's identity provider (OpenID Connect: the authorization code
  flow with PKCE in the browser, client credentials between services), checked against the issuer's
  published keys (JWKS) for issuer, audience, expiry, role and the scope that role needs.

Deny by default: every route names the roles it allows, and every refusal is logged. Scope checks that
need the case (whose office, whose department) live in each domain's service code."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import httpx
import jwt
from fastapi import Depends, Request

from .errors import ApiError
from .sessions import SESSION_ISSUER, public_key, read_session
from .settings import Settings, get_settings

log = logging.getLogger("seva.auth")

EMPLOYEE, DDO, HOD, ADMIN_SECRETARY, FINANCE, DATA_OFFICER, ADMINISTRATOR, OPS = (
    "employee",
    "ddo",
    "hod",
    "admin_secretary",
    "finance",
    "data_officer",
    "administrator",
    "ops",
)

# The scope each officer role must carry in its token's `seva_scope` claim; a token without it is refused.
SCOPE_NEEDED = {
    DDO: ("ddo_code", "department"),
    HOD: ("department",),
    ADMIN_SECRETARY: ("department",),
    DATA_OFFICER: ("data_owner",),
    FINANCE: (),
    ADMINISTRATOR: (),
    OPS: (),
}


@dataclass(frozen=True)
class Principal:
    subject: str  # employee id or officer id
    role: str
    scope: dict[str, Any] = field(default_factory=dict[str, Any])  # e.g. {"ddo_code": ...} or {"department": ...}


def _unauthenticated(request: Request | None, why: str) -> ApiError:
    log.warning("denied: %s on %s %s", why, request.method if request else "-", request.url.path if request else "-")
    return ApiError(401, "invalid_token", "The access token is not valid; log in again.")


@lru_cache(maxsize=4)
def _jwks_client(issuer: str, jwks_url: str | None) -> jwt.PyJWKClient:
    if jwks_url is None:
        discovery = httpx.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration", timeout=5)
        discovery.raise_for_status()
        jwks_url = discovery.json()["jwks_uri"]
    return jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=600, timeout=5)


def _officer_claims(settings: Settings, token: str) -> dict[str, Any]:
    """Blocking (the first call fetches the issuer's keys): run it in a thread."""
    key = _jwks_client(settings.oidc_issuer, settings.oidc_jwks_url).get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        key.key,
        algorithms=["RS256", "ES256", "PS256"],
        issuer=settings.oidc_issuer,
        audience=settings.oidc_audience,
        options={"require": ["exp", "sub", "iss", "aud"]},
    )


def _id_token_claims(settings: Settings, token: str, client_id: str) -> dict[str, Any]:
    """Blocking, like _officer_claims. OpenID Connect Core 3.1.3.7: signed by the issuer's keys, issued by it,
    for this client, not expired, with its issue time."""
    key = _jwks_client(settings.oidc_issuer, settings.oidc_jwks_url).get_signing_key_from_jwt(token)
    return jwt.decode(
        token,
        key.key,
        algorithms=["RS256", "ES256", "PS256"],
        issuer=settings.oidc_issuer,
        audience=client_id,
        options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        leeway=60,
    )


class IdTokenRefused(Exception):
    """The sign-in's ID token failed a check: the sign-in is refused (and the reason logged)."""


async def verify_id_token(id_token: str, client_id: str, nonce: str, access_token: str) -> dict[str, Any]:
    """The ID token the code was exchanged for, checked as OpenID Connect Core says (3.1.3.7 and 3.1.3.8): the
    signature, issuer, audience (and `azp`), expiry, the `nonce` the sign-in sent (so a code issued for someone
    else's sign-in cannot be injected into ours), and `at_hash` binding the access token to it. Returns its
    claims; raises IdTokenRefused, or ApiError 503 when the provider's keys cannot be fetched."""
    settings = get_settings()
    try:
        claims = await asyncio.to_thread(_id_token_claims, settings, id_token, client_id)
    except (jwt.PyJWKClientConnectionError, httpx.HTTPError) as exc:
        log.warning("identity provider unreachable while checking an ID token: %r", exc)
        raise ApiError(
            503,
            "temporarily_unavailable",
            "Sign-in cannot be checked just now (the identity provider does not answer); try again in a minute.",
            retry_after_seconds=settings.retry_after_seconds,
        ) from exc
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise IdTokenRefused(f"the ID token failed its checks ({type(exc).__name__}: {exc})") from exc
    if "azp" in claims and claims["azp"] != client_id:
        raise IdTokenRefused(f"the ID token was issued to another party ({str(claims['azp'])[:60]!r})")
    if not nonce or not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
        raise IdTokenRefused("the ID token's nonce is not the one this sign-in sent")
    if "at_hash" in claims:
        digest = hashlib.sha256(access_token.encode()).digest()  # the algorithms allowed all hash with SHA-256
        expected = base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()
        if not hmac.compare_digest(str(claims["at_hash"]), expected):
            raise IdTokenRefused("the ID token's at_hash does not match the access token")
    return claims


async def decode_token(token: str, request: Request | None = None) -> Principal:
    settings = get_settings()
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        raise _unauthenticated(request, "a token that is not a JWT") from None
    try:
        if issuer == SESSION_ISSUER:
            claims = read_session(public_key(settings.session_public_key), token)
            return Principal(subject=claims["sub"], role=EMPLOYEE)
        if not settings.oidc_issuer or issuer != settings.oidc_issuer:
            raise _unauthenticated(request, f"a token from an issuer we do not trust ({str(issuer)[:80]!r})")
        claims = await asyncio.to_thread(_officer_claims, settings, token)
    except (jwt.PyJWKClientConnectionError, httpx.HTTPError) as exc:
        # the identity provider's keys cannot be fetched: an outage, not the caller's fault
        log.warning("identity provider unreachable on %s: %r", request.url.path if request else "-", exc)
        raise ApiError(
            503,
            "temporarily_unavailable",
            "Sign-in cannot be checked just now (the identity provider does not answer); try again in a minute.",
            retry_after_seconds=settings.retry_after_seconds,
        ) from exc
    except jwt.ExpiredSignatureError:
        log.info("denied: an expired token on %s", request.url.path if request else "-")
        raise ApiError(401, "session_expired", "Your session has expired; log in again.") from None
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise _unauthenticated(request, f"a token that failed its checks ({type(exc).__name__}: {exc})") from exc
    role, scope = claims.get("role"), claims.get("seva_scope") or {}
    if role not in SCOPE_NEEDED or not isinstance(scope, dict) or any(not scope.get(k) for k in SCOPE_NEEDED[role]):
        log.warning(
            "denied: %s's token carries role %r and scope %r, which no officer may hold", claims.get("sub"), role, scope
        )
        raise ApiError(403, "forbidden", "Your login does not carry a role and scope this system knows.")
    return Principal(
        subject=claims["sub"],
        role=role,
        scope={k: v for k, v in scope.items() if k in ("ddo_code", "department", "data_owner")},
    )


async def current_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        log.info("denied: no token on %s %s", request.method, request.url.path)
        raise ApiError(401, "unauthenticated", "This action needs you to log in (an Authorization: Bearer token).")
    principal = await decode_token(token.strip(), request)
    request.state.principal = principal
    return principal


def require_roles(*roles: str) -> Callable[..., Principal]:
    """A dependency that lets through only the named roles; every other caller gets 403, logged."""

    def _check(request: Request, principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in roles:
            log.warning(
                "denied: %s (%s) tried %s %s", principal.subject, principal.role, request.method, request.url.path
            )
            raise ApiError(403, "forbidden", "Your role may not take this action.")
        return principal

    return _check
