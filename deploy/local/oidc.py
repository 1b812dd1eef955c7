"""The local stack's identity provider for officers: NAV's mock-oauth2-server (Maven Central, run with the
JDK), configured with the seeded officers. It is a real OpenID Connect server: discovery, JWKS, the
authorization code flow with PKCE (its login page) and client credentials. The services check its tokens
exactly as they check the state's identity provider's (services/common/auth.py, docs/security.md).

Each seeded officer is a client here, and a client-credentials token for it carries that officer's role and
scope: that is how tests, the benchmark and the CLI act as an officer. The browser's client `seva-portal`
uses the authorization code flow, where the login page takes the officer's id and claims."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

ISSUER_ID = "seva"
AUDIENCE = "seva-suraksha"
PORTAL_CLIENT = "seva-portal"
TEMPORAL_UI_CLIENT = "temporal-ui"  # the standalone Temporal UI's sign-in (operations staff)
TOKEN_EXPIRY_SECONDS = 3600

# Operations staff read cases in the Temporal UI through the payload codec: they act on no case.
OPS_OFFICERS = [{"officer_id": "OPS-1", "role": "ops", "ddo_code": None, "department": None, "data_owner": None}]


# This provider gives the access token and the ID token of a sign-in the same claims, `aud` included; the state's
# provider gives the access token the services' audience and the ID token the portal's client id (OpenID Connect
# Core 2: an ID token's `aud` contains the client's id, and the portal checks it). Both here, so both checks hold.
SIGN_IN_AUDIENCES = [AUDIENCE, PORTAL_CLIENT]


def officer_claims(officer: dict[str, Any]) -> dict[str, Any]:
    scope = {k: officer[k] for k in ("ddo_code", "department", "data_owner") if officer.get(k)}
    return {"sub": officer["officer_id"], "aud": SIGN_IN_AUDIENCES, "role": officer["role"], "seva_scope": scope}


def provider_config(officers: list[dict[str, Any]]) -> dict[str, Any]:
    mappings = [
        {"requestParam": "client_id", "match": o["officer_id"], "claims": officer_claims(o)}
        for o in officers + OPS_OFFICERS
    ]
    # The browser's client: the claims come from the login page (interactive login), the audience from here.
    mappings.append({"requestParam": "client_id", "match": PORTAL_CLIENT, "claims": {"aud": SIGN_IN_AUDIENCES}})
    # The Temporal UI's client likewise: its ID token's audience is the UI's client id, and the access token it
    # passes to the codec server carries the services' audience and the role from the login page
    mappings.append(
        {"requestParam": "client_id", "match": TEMPORAL_UI_CLIENT, "claims": {"aud": [AUDIENCE, TEMPORAL_UI_CLIENT]}}
    )
    return {
        "interactiveLogin": True,
        "httpServer": "NettyWrapper",
        "tokenCallbacks": [{"issuerId": ISSUER_ID, "tokenExpiry": TOKEN_EXPIRY_SECONDS, "requestMappings": mappings}],
    }


def write_config(path: Path, officers: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(provider_config(officers), indent=1))
    return path


def issuer_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/{ISSUER_ID}"


def officer_token(issuer: str, officer_id: str, timeout: float = 10) -> str:
    """A client-credentials access token for a seeded officer (the local provider only)."""
    r = httpx.post(
        f"{issuer}/token",
        timeout=timeout,
        data={"grant_type": "client_credentials", "client_id": officer_id, "client_secret": "local", "scope": "openid"},
    )
    r.raise_for_status()
    token: str = r.json()["access_token"]
    return token


async def officer_token_async(http: httpx.AsyncClient, issuer: str, officer_id: str) -> str:
    r = await http.post(
        f"{issuer}/token",
        data={"grant_type": "client_credentials", "client_id": officer_id, "client_secret": "local", "scope": "openid"},
    )
    r.raise_for_status()
    token: str = r.json()["access_token"]
    return token
