"""Where a request came from, for the audit log, denials and per-address limits."""

from __future__ import annotations

import ipaddress

from starlette.requests import Request

from .settings import get_settings


def client_addr(request: Request) -> str:
    """Where a request came from, for the audit log and per-address limits. Behind the ingress every request
    comes from the ingress, so X-Forwarded-For is read, but only when the request came through a trusted
    proxy (SEVA_TRUSTED_PROXIES): anyone else could write any address into it. The client is the nearest
    address in the chain that is not itself a trusted proxy."""
    peer = request.client.host if request.client else "unknown"
    trusted = get_settings().trusted_proxy_networks

    def is_trusted(addr: str) -> bool:
        try:
            ip = ipaddress.ip_address(addr)
        except ValueError:
            return False
        return any(ip in net for net in trusted)

    if not trusted or not is_trusted(peer):
        return peer
    chain = [a.strip() for h in request.headers.getlist("x-forwarded-for") for a in h.split(",") if a.strip()]
    for addr in reversed(chain):
        if not is_trusted(addr):
            try:
                return str(ipaddress.ip_address(addr))
            except ValueError:
                return peer  # a malformed entry: fall back to the proxy itself, never to the text
    return peer
