"""The client address behind the ingress: X-Forwarded-For counts only when the request came through a trusted
proxy, so nobody can pick their own address (and dodge the per-address OTP limit) by writing the header."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from services.common.runtime import client_addr
from services.common.settings import Settings, use_settings


def _request(peer: str, forwarded: list[str] | None = None) -> Request:
    headers = [(b"x-forwarded-for", h.encode()) for h in forwarded or []]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers, "client": (peer, 40000)})


@pytest.fixture
def proxies(monkeypatch):
    def configure(value: str) -> None:
        monkeypatch.setenv("SEVA_TRUSTED_PROXIES", value)
        use_settings(Settings)

    yield configure
    monkeypatch.delenv("SEVA_TRUSTED_PROXIES", raising=False)
    use_settings(Settings)


def test_without_trusted_proxies_the_header_is_ignored(proxies):
    proxies("")
    assert client_addr(_request("203.0.113.7", ["198.51.100.1"])) == "203.0.113.7"


def test_a_request_not_from_a_trusted_proxy_cannot_choose_its_address(proxies):
    proxies("10.0.0.0/8")
    assert client_addr(_request("203.0.113.7", ["198.51.100.1"])) == "203.0.113.7"


def test_through_the_ingress_the_client_is_the_nearest_untrusted_address(proxies):
    proxies("10.0.0.0/8, 192.168.5.5")
    assert client_addr(_request("10.2.3.4", ["198.51.100.1"])) == "198.51.100.1"
    # a client that writes its own header gets it kept at the far end; the ingress appends the real address
    assert client_addr(_request("10.2.3.4", ["6.6.6.6, 198.51.100.1"])) == "198.51.100.1"
    assert client_addr(_request("10.2.3.4", ["6.6.6.6", "198.51.100.1, 192.168.5.5"])) == "198.51.100.1"
    # only proxies in the chain: the proxy itself
    assert client_addr(_request("10.2.3.4", ["10.9.9.9"])) == "10.2.3.4"
    # garbage is never taken as an address
    assert client_addr(_request("10.2.3.4", ["not-an-address"])) == "10.2.3.4"
    assert client_addr(_request("10.2.3.4")) == "10.2.3.4"
