"""Bearer tokens (JWT, HS256 here; the state's identity provider in production). Deny by default:
every route names the roles it allows, and scope checks live in each domain's service code."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import jwt
from fastapi import Depends, Request

from .errors import ApiError
from .settings import get_settings

log = logging.getLogger("seva.auth")

EMPLOYEE, DDO, HOD, ADMIN_SECRETARY, FINANCE, DATA_OFFICER, ADMINISTRATOR = (
    "employee", "ddo", "hod", "admin_secretary", "finance", "data_officer", "administrator")


@dataclass(frozen=True)
class Principal:
    subject: str                      # employee id or officer id
    role: str
    scope: dict = field(default_factory=dict)  # e.g. {"ddo_code": ...} or {"department": ...}


def issue_token(principal: Principal, ttl_seconds: int | None = None) -> str:
    settings = get_settings()
    now = int(time.time())
    claims = {"sub": principal.subject, "role": principal.role, "scope": principal.scope,
              "iat": now, "exp": now + (ttl_seconds or settings.session_ttl_seconds), "iss": "seva-suraksha"}
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def decode_token(token: str) -> Principal:
    try:
        claims = jwt.decode(token, get_settings().jwt_secret, algorithms=["HS256"], issuer="seva-suraksha",
                            options={"require": ["exp", "sub", "role"]})
    except jwt.ExpiredSignatureError:
        raise ApiError(401, "session_expired", "Your session has expired; log in again with your mobile and OTP.")
    except jwt.PyJWTError:
        raise ApiError(401, "invalid_token", "The access token is not valid; log in again.")
    return Principal(subject=claims["sub"], role=claims["role"], scope=claims.get("scope") or {})


def current_principal(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "unauthenticated", "This action needs you to log in (an Authorization: Bearer token).")
    principal = decode_token(token.strip())
    request.state.principal = principal
    return principal


def require_roles(*roles: str):
    """A dependency that lets through only the named roles; every other caller gets 403, logged."""

    def _check(request: Request, principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in roles:
            log.warning("denied: %s (%s) tried %s %s", principal.subject, principal.role,
                        request.method, request.url.path)
            raise ApiError(403, "forbidden", "Your role may not take this action.")
        return principal

    return _check
