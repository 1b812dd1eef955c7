"""Settings, read from SEVA_* environment variables, one class per process so that each is given only the
secrets it uses.

Fail closed: `SEVA_ENV` must name a known environment or the process does not start. Only `dev` has
defaults for secrets (public ones, so that the local stack needs no setup); in every other environment
each secret the process uses must be given, and must not be a dev value."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me-in-production-0123456789"
ENVIRONMENTS = ("dev", "test", "staging", "production")


def dev_value(field: str) -> str:
    """The public value a secret takes in dev: distinct per secret, so no two share a key by accident."""
    return f"{DEV_SECRET}:{field}"


def is_dev_value(value: str) -> bool:
    return DEV_SECRET in value


# Outside dev a secret or key is checked for its form at start, not first used at run time: the production
# ConfigMap's `REPLACE-WITH-...` public key once passed "is set", every service started, and every employee was
# refused. A secret must be long and varied enough to be a generated one (`openssl rand -base64 32`: 44 characters).
PLACEHOLDER_WORDS = ("REPLACE", "CHANGE-ME", "CHANGEME", "CHANGE_ME", "PLACEHOLDER", "TODO", "FIXME", "<", ">")
MIN_SECRET_CHARS = 32
MIN_DISTINCT_CHARS = 12
PUBLIC_KEYS = ("session_public_key", "audit_public_key")  # base64 of a 32-byte Ed25519 public key
LISTS_OF_SECRETS = {"payload_keys": ":", "vault_keys": ""}  # comma-separated; `id:secret` for the codec's


def key_form_problems(name: str, value: str) -> list[str]:
    """What is wrong with the form of secret or public key `name` (empty: nothing). Why: see PLACEHOLDER_WORDS."""
    env_name = f"SEVA_{name.upper()}"
    if any(word.lower() in value.lower() for word in PLACEHOLDER_WORDS):
        return [f"{env_name} holds a placeholder, not a key"]
    if name in PUBLIC_KEYS:
        import base64
        import binascii

        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return [f"{env_name} is not base64"]
        return [] if len(raw) == 32 else [f"{env_name} is {len(raw)} bytes, not a 32-byte Ed25519 public key"]
    separator = LISTS_OF_SECRETS.get(name)
    parts = [p.strip() for p in value.split(",")] if separator is not None else [value]
    problems = []
    for i, part in enumerate(parts, start=1):
        secret = part.partition(separator)[2] if separator else part
        which = f"{env_name} (key {i})" if len(parts) > 1 else env_name
        if separator and not part.partition(separator)[0]:
            problems.append(f"{which} has no id: write id{separator}secret")
        elif len(secret) < MIN_SECRET_CHARS or len(set(secret)) < MIN_DISTINCT_CHARS:
            problems.append(
                f"{which} is too weak: at least {MIN_SECRET_CHARS} characters, {MIN_DISTINCT_CHARS} of them different"
            )
    return problems


class Settings(BaseSettings):
    """What every process needs: where its dependencies are, how to read an employee's session and an
    officer's token, and the keys of the Temporal payload codec."""

    model_config = SettingsConfigDict(env_prefix="SEVA_", extra="ignore")

    # The fields each process must be given outside dev (secrets have no default there).
    required_outside_dev: ClassVar[tuple[str, ...]] = (
        "database_url",
        "payload_keys",
        "session_public_key",
        "oidc_issuer",
    )
    secrets: ClassVar[tuple[str, ...]] = ("payload_keys",)

    env: Literal["dev", "test", "staging", "production"] = Field(
        description="dev, test, staging or production: required. Dev-only endpoints (the SMS inbox) and dev "
        "secrets exist only in dev"
    )
    data_dir: Path = Path("var")
    database_url: str = Field("", description="PostgreSQL (it carries a password: a secret outside dev)")
    kafka_bootstrap: str = "127.0.0.1:9092"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_metrics_port: int | None = Field(
        None,
        description="where the Temporal SDK's own metrics (worker slots, polls, task latencies) are served on "
        "127.0.0.1, for this process's /metrics to add to its page; one port per process, so set per process",
    )
    season_id: str = "demo"
    payload_keys: str = Field(
        "",
        description="keys of the Temporal payload codec, `id:secret,id:secret`; the first encrypts, every "
        "one decrypts, so a key is rotated by putting a new one first and dropping the old one "
        "only when no running case still holds a payload sealed with it",
    )
    session_public_key: str = Field(
        "", description="the OTP service's Ed25519 public key (base64) that verifies employee sessions"
    )
    oidc_issuer: str = Field("", description="the identity provider that signs officers' tokens")
    oidc_audience: str = Field("seva-suraksha", description="the audience officers' tokens must be issued for")
    oidc_jwks_url: str | None = Field(None, description="the issuer's keys; by default from its discovery document")
    trusted_proxies: str = Field(
        "",
        description="comma-separated addresses or networks of the ingress; only a request that came through "
        "one of them has its client address taken from X-Forwarded-For",
    )
    session_ttl_seconds: int = 3600
    db_connect_timeout_seconds: float = Field(5.0, description="a new database connection that takes longer fails")
    db_command_timeout_seconds: float = Field(8.0, description="a query that takes longer fails: no request hangs")
    retry_after_seconds: int = Field(15, description="Retry-After sent with a 503 while a part is down")
    outbox_retention_hours: float = Field(168.0, description="published outbox rows are pruned after this long")
    inbox_retention_hours: float = Field(
        720.0,
        description="processed-event rows are pruned after this long; keep it above Kafka's retention "
        "(7 days by default) so no redelivery can come after its row is gone",
    )
    consumer_transient_limit_seconds: float = Field(
        1800.0,
        description="how long a consumer waits out a part that is down before parking the message it holds "
        "(services/common/kafka.py TRANSIENT_LIMIT_SECONDS says why 30 minutes)",
    )
    otel_exporter_otlp_endpoint: str | None = None
    trace_file: Path | None = None

    @model_validator(mode="after")
    def _fail_closed(self) -> Settings:
        if self.env == "dev":
            if self.database_url is None:  # the local stack's default (deploy/local/stack.py DEV_PORTS)
                self.database_url = "postgresql://postgres@127.0.0.1:54329/seva"
            for name in self.required_outside_dev:
                if not getattr(self, name):
                    setattr(self, name, self._dev_default(name))
            return self
        missing = [f"SEVA_{n.upper()}" for n in self.required_outside_dev if not getattr(self, n)]
        if missing:
            raise ValueError(f"{self.env}: {', '.join(missing)} must be set")
        public = [f"SEVA_{n.upper()}" for n in self.secrets if is_dev_value(str(getattr(self, n)))]
        if public:
            raise ValueError(f"{self.env}: {', '.join(public)} carry the public dev value")
        keys = [n for n in (*self.secrets, *PUBLIC_KEYS) if n in type(self).model_fields and getattr(self, n)]
        problems = [p for n in dict.fromkeys(keys) for p in key_form_problems(n, str(getattr(self, n)))]
        problems += [  # a setting people read (the helpdesk's number) left as the manifest's placeholder
            f"SEVA_{n.upper()} holds a placeholder"
            for n in self.required_outside_dev
            if n not in keys and str(getattr(self, n)).startswith("REPLACE-WITH-")
        ]
        if problems:
            raise ValueError(f"{self.env}: {'; '.join(problems)}")
        return self

    def _dev_default(self, name: str) -> str:
        if name == "session_public_key":
            from .sessions import public_key_text, signing_key

            return public_key_text(signing_key(dev_value("session_signing_key")))
        if name == "oidc_issuer":
            return ""  # no identity provider: officers' tokens are refused (the local stack runs one)
        return dev_value(name)

    @property
    def is_dev(self) -> bool:
        return self.env == "dev"

    @cached_property
    def trusted_proxy_networks(self) -> list[Any]:
        """Parsed once per process (the settings are read once), not on every request."""
        import ipaddress

        return [ipaddress.ip_network(p.strip(), strict=False) for p in self.trusted_proxies.split(",") if p.strip()]


class OtpSettings(Settings):
    """The OTP service: it alone derives OTP codes, signs employee sessions and talks to the SMS gateway."""

    required_outside_dev = Settings.required_outside_dev + (
        "otp_hmac_key",
        "session_signing_key",
        "sms_gateway",
        "mail_gateway",
    )
    secrets = Settings.secrets + ("otp_hmac_key", "session_signing_key", "sms_gateway_token")

    otp_hmac_key: str = Field("", description="derives each OTP code from its challenge id")
    session_signing_key: str = Field("", description="seed of the Ed25519 key that signs employee sessions")
    sms_gateway: str = Field(
        "", description="module:Class of the SMS gateway; outside dev it must be named and must not be the dev inbox"
    )
    sms_gateway_url: str | None = Field(None, description="HttpSmsGateway: where messages are posted")
    sms_gateway_token: str | None = Field(None, description="HttpSmsGateway: its bearer token (a secret)")
    mail_gateway: str = Field(
        "", description="module:Class of the mail gateway for officers' e-mail; outside dev not the dev mailbox"
    )
    smtp_url: str | None = Field(None, description="SmtpMailGateway: smtp://host:port of the state's relay")
    mail_from: str | None = Field(None, description="SmtpMailGateway: the sender address")
    otp_ttl_seconds: int = 600
    otp_resend_gap_seconds: int = 60
    otp_max_per_mobile_hour: int = 5
    otp_max_per_mobile_day: int = 10
    otp_max_per_client_hour: int = Field(
        300, description="per client address: sized for a district office whose staff register from one connection"
    )
    otp_lockout_after_exhausted: int = 3  # codes used up by wrong tries within a day lock the mobile
    otp_lockout_hours: int = 24
    why_no_otp_per_family_hour: int = 10
    why_no_otp_per_client_hour: int = 300
    otp_clock_scale: float = Field(
        1.0,
        description="season seconds per real second, for the limits' clocks only (the resend gap, the hour and the "
        "day they count in, the lockout): the season simulator compresses the season and keeps every limit in "
        "force on the same proportions. 1 outside dev (fail closed: a faster clock would weaken every limit)",
        ge=1.0,
    )

    def limit_period(self, seconds: float) -> timedelta:
        """A limit's period (an hour, a day, the resend gap) on the limits' clock."""
        return timedelta(seconds=seconds / self.otp_clock_scale)

    def _dev_default(self, name: str) -> str:
        if name == "sms_gateway":
            return "services.otp.sms:DevInboxGateway"
        if name == "mail_gateway":
            return "services.otp.mail:DevMailbox"
        return super()._dev_default(name)

    @model_validator(mode="after")
    def _a_real_gateway(self) -> OtpSettings:
        if not self.is_dev and self.otp_clock_scale != 1.0:
            raise ValueError(f"{self.env}: SEVA_OTP_CLOCK_SCALE is for the season simulator on the local stack only")
        if not self.is_dev and self.sms_gateway and "DevInbox" in self.sms_gateway:
            raise ValueError(f"{self.env}: SEVA_SMS_GATEWAY names the dev inbox; name the state's SMS gateway")
        if not self.is_dev and self.mail_gateway and "DevMailbox" in self.mail_gateway:
            raise ValueError(f"{self.env}: SEVA_MAIL_GATEWAY names the dev mailbox; name the state's mail relay")
        return self


class ApplicationsSettings(Settings):
    """The applications service: it alone opens the Aadhaar vault."""

    required_outside_dev = Settings.required_outside_dev + ("vault_keys",)
    secrets = Settings.secrets + ("vault_keys",)

    vault_keys: str = Field(
        "",
        description="keys of the Aadhaar vault, comma-separated; the first "
        "encrypts, every one decrypts (rotation, MultiFernet)",
    )


class VerificationSettings(Settings):
    """The verification service; it also serves the Temporal UI's codec endpoint (codec_server.py)."""

    codec_cors_origins: str = Field(
        "", description="comma-separated origins of the Temporal UI allowed to call /codec from the browser"
    )


class OrdersSettings(Settings):
    """The orders service: it alone signs service-security orders."""

    required_outside_dev = Settings.required_outside_dev + ("order_signing_seed", "order_signing_pem")
    secrets = Settings.secrets + ("order_signing_seed", "order_signing_pem")

    order_signing_seed: str = Field("", description="seed of the Ed25519 key that signs order QR codes")
    order_signing_pem: str = Field(
        "",
        description="the PAdES signer of the order PDF: its private key and certificate chain (signer first) as PEM; "
        "in dev, a local certificate authority derived from the dev value",
    )


HELPDESK = ("helpdesk_phone", "helpdesk_email", "helpdesk_address", "helpdesk_hours")
DEV_HELPDESK = {  # plainly not the state's: the local stack's
    "helpdesk_phone": "0000-000-000 (local stack)",
    "helpdesk_email": "helpdesk@example.invalid",
    "helpdesk_address": "स्थानीय परीक्षण, कोई कार्यालय नहीं",
    "helpdesk_hours": "सोमवार से शुक्रवार, 9:00 से 17:30 (स्थानीय परीक्षण)",
}


class PortalSettings(Settings):
    """The portal: pages for employees and officers in the browser, in front of the four services' APIs. It
    holds no database and no Temporal client; it seals its own short-lived sign-in cookie (the officers'
    OpenID state) with its cookie key."""

    required_outside_dev = (
        "session_public_key",
        "oidc_issuer",
        "portal_cookie_key",
        "portal_public_url",
        *HELPDESK,
    )
    secrets = ("portal_cookie_key", "portal_client_secret")

    otp_url: str = Field("http://127.0.0.1:8001", description="the OTP service's API, as the portal reaches it")
    applications_url: str = Field("http://127.0.0.1:8002", description="the applications service's API")
    verification_url: str = Field("http://127.0.0.1:8003", description="the verification service's API")
    orders_url: str = Field("http://127.0.0.1:8004", description="the orders service's API")
    portal_public_url: str = Field(
        "", description="where browsers reach the portal (https outside dev): the officers' sign-in returns here"
    )
    portal_cookie_key: str = Field("", description="seals the sign-in state cookie (AES-GCM)")
    portal_client_id: str = Field("seva-portal", description="the portal's client at the identity provider")
    portal_client_secret: str = Field("", description="its secret at the identity provider, if it has one")
    portal_backend_timeout_seconds: float = Field(10.0, description="a call to a service that takes longer fails")
    session_warning_seconds: int = Field(300, description="how long before a session ends the page warns")
    # The helpdesk every page's contact page names (GIGW): the state fills them in; the portal does not start
    # without them outside dev
    helpdesk_phone: str = Field("", description="the helpline's number, as people dial it")
    helpdesk_email: str = Field("", description="the helpdesk's e-mail address")
    helpdesk_address: str = Field("", description="the office that answers for the portal, its postal address")
    helpdesk_hours: str = Field("", description="when the helpline answers, in words")

    def _dev_default(self, name: str) -> str:
        if name == "portal_public_url":
            return "http://127.0.0.1:8000"  # the local stack's portal (deploy/local/stack.py)
        if name in HELPDESK:
            return DEV_HELPDESK[name]
        return super()._dev_default(name)

    @property
    def cookies_secure(self) -> bool:
        """Cookies go over HTTPS only, everywhere but the local stack on loopback."""
        return not self.is_dev


class CasesSettings(Settings):
    """The cases worker: it runs the case workflows and reads the calendar; it serves no API, so it reads no
    sessions or officers' tokens."""

    required_outside_dev = ("payload_keys",)

    applications_url: str = Field("http://127.0.0.1:8002", description="where the cases worker reads the calendar")
    health_port: int | None = Field(None, description="the cases worker's /healthz and /readyz")


class AuditSettings(Settings):
    """`seva audit publish`, run daily: it reads every audit chain's head and signs it; `seva audit verify`
    needs only the public key."""

    required_outside_dev = ("database_url", "audit_public_key")
    secrets = ("audit_signing_key",)

    audit_signing_key: str = Field("", description="seed of the Ed25519 key that signs the published heads")
    audit_public_key: str = Field("", description="its public half (base64), for `seva audit verify`")
    audit_heads_dir: Path | None = Field(
        None, description="where the signed heads are written (default <data_dir>/audit-heads)"
    )

    def _dev_default(self, name: str) -> str:
        if name == "audit_public_key":
            from .sessions import public_key_text, signing_key

            return public_key_text(signing_key(dev_value("audit_signing_key")))
        return super()._dev_default(name)

    @model_validator(mode="after")
    def _dev_signing_key(self) -> AuditSettings:
        if self.is_dev and not self.audit_signing_key:
            self.audit_signing_key = dev_value("audit_signing_key")
        if self.audit_heads_dir is None:
            self.audit_heads_dir = self.data_dir / "audit-heads"
        return self


SETTINGS_BY_PROCESS: dict[str, type[Settings]] = {
    "otp": OtpSettings,
    "applications": ApplicationsSettings,
    "verification": VerificationSettings,
    "orders": OrdersSettings,
    "cases": CasesSettings,
    "portal": PortalSettings,
    "audit": AuditSettings,
}

_process_settings: list[type[Settings]] = [Settings]


def use_settings(cls: type[Settings]) -> None:
    """A process says once, at start, which settings it reads; `get_settings()` then returns them."""
    _process_settings[0] = cls
    get_settings.cache_clear()


class ConfigurationError(RuntimeError):
    """The process must not start: its environment is missing or incomplete."""


@lru_cache
def get_settings() -> Settings:
    cls = _process_settings[0]
    try:
        return cls()
    except ValidationError as exc:
        problems = "; ".join(
            f"SEVA_{'_'.join(map(str, e['loc'])).upper() or 'ENV'}: {e['msg']}" if e["loc"] else e["msg"]
            for e in exc.errors()
        )
        raise ConfigurationError(
            f"{cls.__name__}: refusing to start ({problems}). SEVA_ENV must be one of "
            f"{', '.join(ENVIRONMENTS)}, and outside dev every secret the process uses must be "
            "set (docs/security.md)."
        ) from None


def key_bytes(secret: str) -> bytes:
    """32 bytes from a secret of any form (a passphrase or a random string)."""
    return hashlib.sha256(secret.encode()).digest()
