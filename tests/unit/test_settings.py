"""Fail closed: no environment, an unknown one, a missing or public secret, or the dev SMS inbox outside dev
stops the process before it starts; and outside dev the dev-only routes do not exist."""

from __future__ import annotations

import importlib
import os

import pytest
from fastapi.testclient import TestClient

from services.common.settings import (
    ConfigurationError,
    OtpSettings,
    Settings,
    dev_value,
    get_settings,
    use_settings,
)

# Secrets as an operator generates them (`openssl rand -base64 32`); public keys as base64 of 32 bytes.
STRONG = "q3Vx9Lr2mT8sWcYb1ZkN4pHjD7eGfA0u"
PRODUCTION = {
    "SEVA_ENV": "production",
    "SEVA_DATABASE_URL": "postgresql://otp:pw@db/seva",
    "SEVA_PAYLOAD_KEYS": f"k1:{STRONG}-payload",
    "SEVA_SESSION_PUBLIC_KEY": "FZayCN3PbUtelfJ+j0nzySuFkbvWAUXFlpN+XeNFNjA=",
    "SEVA_OIDC_ISSUER": "https://idp/realm",
    "SEVA_OTP_HMAC_KEY": f"{STRONG}-hmac",
    "SEVA_SESSION_SIGNING_KEY": f"{STRONG}-session",
    "SEVA_SMS_GATEWAY": "services.otp.sms:HttpSmsGateway",
    "SEVA_SMS_GATEWAY_URL": "https://sms/api",
    "SEVA_SMS_GATEWAY_TOKEN": f"{STRONG}-sms",
    "SEVA_MAIL_GATEWAY": "services.otp.mail:SmtpMailGateway",
    "SEVA_SMTP_URL": "smtp://relay:587",
    "SEVA_MAIL_FROM": "seva@hry.example",
    "SEVA_VAULT_KEYS": f"{STRONG}-vault-1,{STRONG}-vault-0",
    "SEVA_ORDER_SIGNING_SEED": f"{STRONG}-orders",
    "SEVA_ORDER_SIGNING_PEM": f"{STRONG}-orders-pem",
}


@pytest.fixture
def environment(monkeypatch):
    for key in [k for k in os.environ if k.startswith("SEVA_")]:
        monkeypatch.delenv(key)
    yield monkeypatch
    use_settings(Settings)


def _start(cls=OtpSettings):
    use_settings(cls)
    return get_settings()


def test_no_environment_no_start(environment):
    with pytest.raises(ConfigurationError, match="SEVA_ENV"):
        _start()


@pytest.mark.parametrize("env", ["prod", "Production", "", "development"])
def test_an_unknown_environment_is_refused_not_taken_for_dev(environment, env):
    environment.setenv("SEVA_ENV", env)
    with pytest.raises(ConfigurationError):
        _start()


@pytest.mark.parametrize("env", ["test", "staging", "production"])
def test_outside_dev_every_secret_is_required(environment, env):
    environment.setenv("SEVA_ENV", env)
    with pytest.raises(ConfigurationError) as raised:
        _start()
    for name in (
        "SEVA_DATABASE_URL",
        "SEVA_OTP_HMAC_KEY",
        "SEVA_SESSION_SIGNING_KEY",
        "SEVA_SMS_GATEWAY",
        "SEVA_MAIL_GATEWAY",
        "SEVA_PAYLOAD_KEYS",
        "SEVA_OIDC_ISSUER",
    ):
        assert name in str(raised.value)
    for key, value in PRODUCTION.items():
        environment.setenv(key, value)
    environment.setenv("SEVA_ENV", env)
    assert _start().env == env


def test_a_public_dev_secret_is_refused_outside_dev(environment):
    for key, value in PRODUCTION.items():
        environment.setenv(key, value)
    environment.setenv("SEVA_OTP_HMAC_KEY", dev_value("otp_hmac_key"))
    with pytest.raises(ConfigurationError, match="SEVA_OTP_HMAC_KEY"):
        _start()


@pytest.mark.parametrize(
    "key, value, words",
    [
        ("SEVA_SESSION_PUBLIC_KEY", "REPLACE-WITH-THE-OTP-SERVICE-PUBLIC-KEY-BASE64", "placeholder"),
        ("SEVA_SESSION_PUBLIC_KEY", "not base64 at all!", "not base64"),
        ("SEVA_SESSION_PUBLIC_KEY", "FZayCN3PbUtelfJ+j0nzySuFkbvWAUXF", "not a 32-byte Ed25519 public key"),
        ("SEVA_OTP_HMAC_KEY", "hmac-secret", "too weak"),
        ("SEVA_OTP_HMAC_KEY", "a" * 64, "too weak"),  # long, but one letter
        ("SEVA_SESSION_SIGNING_KEY", "<the session signing seed>", "placeholder"),
        ("SEVA_PAYLOAD_KEYS", "k1:secret-1", "too weak"),
        ("SEVA_PAYLOAD_KEYS", f":{STRONG}", "no id"),
        ("SEVA_VAULT_KEYS", f"{STRONG},v0", "(key 2) is too weak"),
        ("SEVA_SMS_GATEWAY_TOKEN", "t", "too weak"),
        ("SEVA_ORDER_SIGNING_SEED", "CHANGE-ME-please-to-a-real-seed-0123456789", "placeholder"),
    ],
)
def test_a_key_of_the_wrong_form_is_refused_at_start_not_at_the_first_request(environment, key, value, words):
    """The production ConfigMap's `REPLACE-WITH-...` public key passed "is set": every service started and every
    employee was refused at run time. Each key's form (and each secret's strength) is checked at start."""
    from services.common.settings import ApplicationsSettings, OrdersSettings

    for k, v in PRODUCTION.items():
        environment.setenv(k, v)
    environment.setenv(key, value)
    cls = {"SEVA_VAULT_KEYS": ApplicationsSettings, "SEVA_ORDER_SIGNING_SEED": OrdersSettings}.get(key, OtpSettings)
    with pytest.raises(ConfigurationError, match=key) as refused:
        _start(cls)
    assert words in str(refused.value)
    assert len(value) < 4 or value not in str(refused.value)  # a secret is never echoed into the logs


def test_the_dev_sms_inbox_is_refused_outside_dev(environment):
    for key, value in PRODUCTION.items():
        environment.setenv(key, value)
    environment.setenv("SEVA_SMS_GATEWAY", "services.otp.sms:DevInboxGateway")
    with pytest.raises(ConfigurationError, match="dev inbox"):
        _start()


def test_the_dev_mailbox_is_refused_outside_dev(environment):
    for key, value in PRODUCTION.items():
        environment.setenv(key, value)
    environment.setenv("SEVA_MAIL_GATEWAY", "services.otp.mail:DevMailbox")
    with pytest.raises(ConfigurationError, match="dev mailbox"):
        _start()


def test_a_process_reads_only_its_own_secrets(environment):
    from services.common.settings import CasesSettings, OrdersSettings, VerificationSettings

    for key, value in PRODUCTION.items():
        environment.setenv(key, value)
    assert not hasattr(_start(VerificationSettings), "otp_hmac_key")
    assert not hasattr(_start(OrdersSettings), "vault_keys")
    cases = _start(CasesSettings)
    assert not hasattr(cases, "order_signing_seed") and not hasattr(cases, "session_signing_key")


DEV_ROUTES = [("otp", "GET", "/dev/sms?mobile=9876543210"), ("verification", "POST", "/dev/officer-token")]


@pytest.mark.parametrize("service, method, path", DEV_ROUTES)
def test_dev_routes_do_not_exist_outside_dev(environment, service, method, path):
    for key, value in PRODUCTION.items():
        environment.setenv(key, value)
    module = importlib.import_module(f"services.{service}.main")
    app = module.build_app(module.definition)  # the app as production builds it (no lifespan run)
    r = TestClient(app).request(method, path, json={})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert not any(p.startswith("/dev") for p in app.openapi()["paths"])


def test_dev_routes_exist_in_dev(environment):
    environment.setenv("SEVA_ENV", "dev")
    module = importlib.import_module("services.otp.main")
    app = module.build_app(module.definition)
    assert "/dev/sms" in app.openapi()["paths"]


def test_a_compressed_clock_for_the_otp_limits_is_for_the_simulator_only(environment):
    """The season simulator keeps every OTP limit in force on a compressed clock (SEVA_OTP_CLOCK_SCALE); anywhere
    but dev that would weaken every limit, so the process does not start."""
    for key, value in PRODUCTION.items():
        environment.setenv(key, value)
    environment.setenv("SEVA_OTP_CLOCK_SCALE", "900")
    with pytest.raises(ConfigurationError, match="SEVA_OTP_CLOCK_SCALE"):
        _start()
    environment.setenv("SEVA_ENV", "dev")
    settings = _start()
    assert isinstance(settings, OtpSettings)
    assert settings.limit_period(3600).total_seconds() == pytest.approx(4.0)  # an hour of the season
    environment.setenv("SEVA_OTP_CLOCK_SCALE", "0.5")  # a slower clock is no compression
    with pytest.raises(ConfigurationError):
        _start()
