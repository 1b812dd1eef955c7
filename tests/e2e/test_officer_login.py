"""Officers sign in at the identity provider (OpenID Connect), the browser way: the authorization code flow
with PKCE. The services take its tokens, checked against its published keys, and nothing else: not a token
signed by anyone else, nor one meant for another audience, nor an employee session forged without the OTP
service's key."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from contract import case_workflow_id
from deploy.local.oidc import AUDIENCE, PORTAL_CLIENT

from .conftest import SEASON
from .helpers import assert_error

pytestmark = pytest.mark.stack
REDIRECT = "http://127.0.0.1:9/callback"


async def _browser_login(stack, officer: dict[str, Any], verifier: str) -> str:
    """What the portal does: send the officer to the provider with a PKCE challenge, get a code back."""
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "client_id": PORTAL_CLIENT,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "state": "s-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    async with httpx.AsyncClient(timeout=30, follow_redirects=False) as browser:
        page = await browser.get(f"{stack.oidc_issuer}/authorize", params=params)
        assert page.status_code == 200 and "<form" in page.text.lower()
        # the provider's login page (the state's IdP asks for a password and OTP here)
        r = await browser.post(
            f"{stack.oidc_issuer}/authorize",
            params=params,
            data={"username": officer["sub"], "claims": json.dumps(officer)},
        )
        assert r.status_code in (302, 303), r.text[:300]
        back = urlparse(r.headers["location"])
        query = parse_qs(back.query)
        assert back.path == "/callback" and query["state"] == ["s-1"]
        return query["code"][0]


async def _exchange(stack, code: str, verifier: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as portal:
        return await portal.post(
            f"{stack.oidc_issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "client_id": PORTAL_CLIENT,
                "client_secret": "portal",
                "code_verifier": verifier,
            },
        )


async def test_an_officer_signs_in_with_pkce_and_acts_within_scope(stack, http, master):
    ddo = master.ddos[0]
    officer = {
        "sub": f"OFF-{ddo['ddo_code']}",
        "role": "ddo",
        "seva_scope": {"ddo_code": ddo["ddo_code"], "department": ddo["department_code"]},
    }
    verifier = secrets.token_urlsafe(48)
    code = await _browser_login(stack, officer, verifier)
    r = await _exchange(stack, code, verifier)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == stack.oidc_issuer and AUDIENCE in (
        claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    )
    queue = await http.get(
        f"{stack.url('verification')}/verification/queue", headers={"Authorization": f"Bearer {token}"}
    )
    assert queue.status_code == 200, queue.text
    # a code is not exchanged with another verifier than the one its challenge was made from
    verifier2 = secrets.token_urlsafe(48)
    code2 = await _browser_login(stack, officer, verifier2)
    assert (await _exchange(stack, code2, "not-the-verifier-" + verifier2[:20])).status_code >= 400


async def test_tokens_not_from_the_provider_or_not_for_us_are_refused(stack, http, master):
    url = f"{stack.url('verification')}/verification/queue"
    ddo = master.ddos[0]
    now = int(time.time())
    claims = {
        "sub": f"OFF-{ddo['ddo_code']}",
        "role": "ddo",
        "aud": AUDIENCE,
        "iss": stack.oidc_issuer,
        "iat": now,
        "exp": now + 600,
        "seva_scope": {"ddo_code": ddo["ddo_code"], "department": ddo["department_code"]},
    }
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "seva"})
    assert_error(await http.get(url, headers={"Authorization": f"Bearer {forged}"}), 401, "invalid_token")
    hs = jwt.encode(claims, "any-shared-secret", algorithm="HS256")
    assert_error(await http.get(url, headers={"Authorization": f"Bearer {hs}"}), 401, "invalid_token")
    employee = jwt.encode(
        {"sub": "EMP0000001", "role": "employee", "iss": "seva-suraksha-otp", "aud": "seva-suraksha", "exp": now + 600},
        "guess",
        algorithm="HS256",
    )
    assert_error(
        await http.get(
            f"{stack.url('applications')}/applications/documents", headers={"Authorization": f"Bearer {employee}"}
        ),
        401,
        "invalid_token",
    )
    # a genuine token of the provider, but for another audience (another application's client)
    async with httpx.AsyncClient(timeout=30) as c:
        r = await c.post(
            f"{stack.oidc_issuer}/token",
            data={"grant_type": "client_credentials", "client_id": "some-other-app", "client_secret": "x"},
        )
    assert_error(
        await http.get(url, headers={"Authorization": f"Bearer {r.json()['access_token']}"}), 401, "invalid_token"
    )


async def test_ops_read_sealed_case_payloads_through_the_codec_server_and_no_one_else(stack, http, master, temporal):
    from temporalio.client import Client

    from deploy.local.oidc import officer_token_async

    raw = await Client.connect(stack.temporal_address)
    employee_id = master.employees[0].master["employee_id"]
    history = await raw.get_workflow_handle(case_workflow_id(employee_id, SEASON)).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes.input.payloads[0]
    assert started.metadata["encoding"] == b"binary/encrypted"
    body = {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in started.metadata.items()},
                "data": base64.b64encode(started.data).decode(),
            }
        ]
    }
    codec = f"{stack.url('verification')}/codec/decode"
    ops = {
        "Authorization": f"Bearer {await officer_token_async(http, stack.oidc_issuer, 'OPS-1')}",
        "X-Namespace": "default",
    }
    r = await http.post(codec, json=body, headers=ops)
    assert r.status_code == 200, r.text
    opened = base64.b64decode(r.json()["payloads"][0]["data"]).decode()
    assert employee_id in opened
    ddo_id = "OFF-" + master.ddos[0]["ddo_code"]
    ddo = {"Authorization": f"Bearer {await officer_token_async(http, stack.oidc_issuer, ddo_id)}"}
    assert_error(await http.post(codec, json=body, headers=ddo), 403, "forbidden")
    assert_error(await http.post(codec, json=body), 401, "unauthenticated")
    # found by the API fuzzer: text that is not base64 was a 500 on /codec/encode
    junk = {"payloads": [{"metadata": {"encoding": "ÄÖÜ"}, "data": "not base64 ✗"}]}
    for path in ("decode", "encode"):
        assert_error(await http.post(codec.replace("decode", path), json=junk, headers=ops), 422, "payload_not_base64")
    # the Temporal UI (another origin) may call it from the browser
    pre = await http.options(
        codec,
        headers={
            "Origin": f"http://127.0.0.1:{stack.ports.temporal_ui}",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )
    assert pre.status_code == 200 and pre.headers["access-control-allow-origin"].endswith(str(stack.ports.temporal_ui))

    # an empty list, as the Temporal CLI sends it for a query without arguments (proto3 JSON leaves it out): it was
    # refused 422 "payloads: Field required"; and the CLI's query through the codec server reads the case in clear
    for path in ("decode", "encode"):
        r = await http.post(codec.replace("decode", path), json={}, headers=ops)
        assert r.status_code == 200 and r.json() == {"payloads": []}, r.text
    cli = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "temporal"),
        *("workflow", "query", "--address", stack.temporal_address, "--namespace", "default"),
        *("--workflow-id", case_workflow_id(employee_id, SEASON), "--name", "status", "--output", "json"),
        *("--codec-endpoint", f"{stack.url('verification')}/codec", "--codec-auth", ops["Authorization"]),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(cli.communicate(), 60)
    assert cli.returncode == 0, err.decode()
    assert employee_id in out.decode()


async def test_every_seeded_case_has_its_summary_for_the_temporal_ui(stack, master, temporal):
    """The list in the Temporal UI reads `EMP... · department · district · DDO` for each case (sealed like every
    payload: ops open it through the codec server), with no personal data in it."""
    m = master.employees[3].master
    described = await temporal.get_workflow_handle(case_workflow_id(m["employee_id"], SEASON)).describe()
    summary = await described.static_summary()
    assert summary == f"{m['employee_id']} · {m['department_code']} · {m['district']} · {m['ddo_code']}"
    assert m["name"] not in summary and m["name"] not in (await described.static_details() or "")


async def _portal_sign_in(stack, officer_id: str, tamper=None) -> tuple[httpx.Response, httpx.AsyncClient]:
    """The portal's own sign-in, as a browser follows it: the portal sends the officer to the provider with its
    state, nonce and PKCE challenge; the provider's login page sends them back with a code; the portal's
    callback exchanges it and checks the ID token. `tamper` changes what reaches the provider."""
    from deploy.local.oidc import officer_claims
    from deploy.local.synthetic import seeded_officers

    officer = next(o for o in seeded_officers() if o["officer_id"] == officer_id)
    browser = httpx.AsyncClient(base_url=stack.portal_url, timeout=30, follow_redirects=False)
    leave = await browser.get("/officer/login")
    assert leave.status_code == 303, leave.text[:200]
    to_provider = urlparse(leave.headers["location"])
    params = {k: v[0] for k, v in parse_qs(to_provider.query).items()}
    assert params["nonce"] and params["state"] and params["code_challenge_method"] == "S256"
    if tamper:
        tamper(params)
    back = await browser.post(
        f"{stack.oidc_issuer}/authorize",
        params=params,
        data={"username": officer_id, "claims": json.dumps(officer_claims(officer))},
    )
    assert back.status_code in (302, 303), back.text[:300]
    return await browser.get(back.headers["location"]), browser


async def test_the_portal_signs_an_officer_in_with_a_checked_id_token(stack):
    r, browser = await _portal_sign_in(stack, "FIN-1")
    try:
        assert r.status_code == 303 and r.headers["location"] == "/desk", r.headers.get("location")
        assert "seva_officer" in r.headers.get("set-cookie", "")
        assert (await browser.get("/desk/posts")).status_code == 200
    finally:
        await browser.aclose()


async def test_a_code_issued_for_another_sign_in_is_refused_by_its_nonce(stack):
    """Code injection: an attacker's code (issued under the attacker's nonce) is fed to an officer's callback.
    The state matches (it is the officer's browser), PKCE too here; the ID token's nonce does not."""

    def attackers_nonce(params: dict[str, Any]) -> None:
        params["nonce"] = "the-attackers-own-sign-in"

    r, browser = await _portal_sign_in(stack, "FIN-1", tamper=attackers_nonce)
    await browser.aclose()
    assert r.status_code == 303 and r.headers["location"] == "/officer?failed=1"
    assert "seva_officer" not in r.headers.get("set-cookie", "")
