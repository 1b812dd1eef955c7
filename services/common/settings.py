"""One settings object for every process, read from SEVA_* environment variables."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-only-secret-change-me-in-production-0123456789"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEVA_", extra="ignore")

    env: str = Field("dev", description="dev or production; dev-only endpoints (SMS sink, officer login) exist only in dev")
    data_dir: Path = Path("var")
    database_url: str = "postgresql://postgres@127.0.0.1:54329/seva"  # the local stack's defaults (deploy/local/stack.py DEV_PORTS)
    kafka_bootstrap: str = "127.0.0.1:9092"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    applications_url: str = Field("http://127.0.0.1:8002", description="where the cases worker reads the calendar")
    season_id: str = "demo"
    jwt_secret: str = DEV_SECRET
    otp_hmac_key: str = DEV_SECRET
    order_signing_seed: str = Field(DEV_SECRET, description="seed of the Ed25519 key that signs order QR codes")
    vault_key: str = Field(DEV_SECRET, description="key for the Aadhaar vault (Fernet key derived from it)")
    otp_ttl_seconds: int = 600
    sms_gateway: str = "services.otp.sms:DevSinkGateway"
    otp_resend_gap_seconds: int = 60
    otp_max_per_mobile_hour: int = 5
    otp_max_per_mobile_day: int = 10
    otp_max_per_client_hour: int = 30
    otp_lockout_after_exhausted: int = 3      # codes used up by wrong tries within a day lock the mobile
    otp_lockout_hours: int = 24
    session_ttl_seconds: int = 3600
    db_connect_timeout_seconds: float = Field(5.0, description="a new database connection that takes longer fails")
    db_command_timeout_seconds: float = Field(8.0, description="a query that takes longer fails: no request hangs")
    retry_after_seconds: int = Field(15, description="Retry-After sent with a 503 while a part is down")
    outbox_retention_hours: float = Field(168.0, description="published outbox rows are pruned after this long")
    inbox_retention_hours: float = Field(
        720.0, description="processed-event rows are pruned after this long; keep it above Kafka's retention "
        "(7 days by default) so no redelivery can come after its row is gone")
    health_port: int | None = Field(None, description="the cases worker's /healthz and /readyz")
    otel_exporter_otlp_endpoint: str | None = None
    trace_file: Path | None = None

    @model_validator(mode="after")
    def _no_dev_secrets_in_production(self) -> "Settings":
        if self.env == "production" and DEV_SECRET in (self.jwt_secret, self.otp_hmac_key, self.vault_key,
                                                       self.order_signing_seed):
            raise ValueError("SEVA_JWT_SECRET, SEVA_OTP_HMAC_KEY, SEVA_VAULT_KEY and SEVA_ORDER_SIGNING_SEED "
                             "must be set in production")
        return self

    @property
    def is_dev(self) -> bool:
        return self.env == "dev"


@lru_cache
def get_settings() -> Settings:
    return Settings()
