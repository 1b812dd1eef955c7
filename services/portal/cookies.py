"""What the portal keeps in the browser. The employee's session and the officer's access token are the
tokens the services issue and check, in HttpOnly, SameSite=Strict cookies (Secure outside dev); they expire
with the token. The officers' sign-in state (OpenID `state`, `nonce`, the PKCE verifier) is sealed with the
portal's cookie key (AES-GCM) for the few minutes the sign-in takes."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from starlette.responses import Response

from services.common.settings import PortalSettings, key_bytes

EMPLOYEE = "seva_employee"
OFFICER = "seva_officer"
EXPIRES = "seva_expires"  # when the session ends (epoch seconds): the page's warning reads it
SIGN_IN = "seva_sign_in"
LANGUAGE = "seva_lang"
# Post/Redirect/Get: what a step's POST hands to the page it redirects to, sealed, for minutes. A refused form's
# answers and reasons (CARRIED), the mobile an OTP was sent to (PENDING), the application's answers on their way
# to the review (DRAFT). Every step is then a GET that Back, refresh and the language switch can repeat.
CARRIED = "seva_carried"
PENDING = "seva_pending"
DRAFT = "seva_draft"


def seal(settings: PortalSettings, data: dict[str, Any], purpose: str = SIGN_IN) -> str:
    """Sealed for one cookie (its name is the associated data): one cookie's value does not open as another's."""
    nonce = os.urandom(12)
    box = AESGCM(key_bytes(settings.portal_cookie_key)).encrypt(nonce, json.dumps(data).encode(), purpose.encode())
    return base64.urlsafe_b64encode(nonce + box).decode()


def unseal(settings: PortalSettings, text: str | None, purpose: str = SIGN_IN) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text.encode())
        opened = AESGCM(key_bytes(settings.portal_cookie_key)).decrypt(raw[:12], raw[12:], purpose.encode())
        data = json.loads(opened)
    except (ValueError, InvalidTag):
        return None
    return data if isinstance(data, dict) else None


def set_cookie(
    response: Response, settings: PortalSettings, name: str, value: str, max_age: int, http_only: bool = True
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=http_only,
        secure=settings.cookies_secure,
        samesite="strict" if name != SIGN_IN else "lax",  # the provider's redirect back is a cross-site GET
        path="/",
    )


def clear_sessions(response: Response) -> None:
    for name in (EMPLOYEE, OFFICER, EXPIRES, SIGN_IN, CARRIED, PENDING, DRAFT):
        response.delete_cookie(name, path="/")
