"""The portal's back end is the four services' APIs: it calls them with the signed-in person's own token, so
every rule and every scope check stays where it is (the services check again whatever the portal shows).
A service's refusal comes back as a BackendError carrying its stable code and sentence, for the page to show
beside the field; a service that does not answer is an outage, never a blank page."""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from typing import Any

import httpx

from services.common.settings import PortalSettings

log = logging.getLogger("seva.portal")


class BackendError(Exception):
    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}

    @property
    def outage(self) -> bool:
        return self.status in (502, 503, 504)


class Backend:
    def __init__(self, settings: PortalSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.urls = {
            "otp": settings.otp_url.rstrip("/"),
            "applications": settings.applications_url.rstrip("/"),
            "verification": settings.verification_url.rstrip("/"),
            "orders": settings.orders_url.rstrip("/"),
        }
        self.http = httpx.AsyncClient(timeout=settings.portal_backend_timeout_seconds, transport=transport)

    async def close(self) -> None:
        await self.http.aclose()

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        token: str | None = None,
        *,
        client_addr: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        client_addr = client_addr or BROWSER.get()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if client_addr:
            # the services count limits and write audit rows per client address (the browser's, not the
            # portal's); they trust the portal's word only when the portal is on their SEVA_TRUSTED_PROXIES list
            headers["X-Forwarded-For"] = client_addr
        try:
            r = await self.http.request(method, f"{self.urls[service]}{path}", headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            log.warning("%s %s%s: no answer: %r", method, service, _loggable(path), exc)
            raise BackendError(503, "temporarily_unavailable", "") from exc
        except httpx.InvalidURL as exc:  # an input too long for an address: the visitor's, not an outage
            raise BackendError(422, "input_too_long", "An answer is too long.") from exc
        if r.status_code >= 400:
            try:
                body = r.json()
                code, message, details = body.get("code", "error"), body.get("message", ""), body.get("details")
            except ValueError:
                code, message, details = "error", "", None
            if r.status_code >= 500 and r.status_code not in (502, 503, 504):
                log.error("%s %s%s: %d %s", method, service, _loggable(path), r.status_code, code)
            raise BackendError(r.status_code, code, message, details)
        return r

    async def json(self, service: str, method: str, path: str, token: str | None = None, **kwargs: Any) -> Any:
        r = await self.call(service, method, path, token, **kwargs)
        try:
            return r.json()
        except ValueError as exc:  # a service's answer the portal cannot read: shown as an outage, logged
            log.error("%s %s%s: %d with a body that is not JSON", method, service, _loggable(path), r.status_code)
            raise BackendError(502, "unreadable_answer", "") from exc


# The address of the browser whose request the portal is serving (set for each request by the portal's frame
# middleware): every call to a service carries it, so an officer's act is audited with the officer's address.
BROWSER: ContextVar[str | None] = ContextVar("portal_browser_address", default=None)

_LINK_CODE = re.compile(r"(/mobile-confirmations/[^/]+/)[^/?]+")


def _loggable(path: str) -> str:
    """A path as logged: a pre-season confirmation link's code masked (no log holds a usable one)."""
    return _LINK_CODE.sub(r"\1******", path)
