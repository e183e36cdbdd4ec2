"""Worker configuration from the environment (and `.env`), validated once at start-up."""

from __future__ import annotations

import os
import socket
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from worker.supabase_keys import classify_service_key


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WORKER_", env_file=".env", extra="ignore")

    database_url: str = Field(
        description="PostgreSQL URL (Supabase: the session pooler or direct connection, as postgres)",
    )
    supabase_url: str | None = Field(default=None, description="Supabase project URL, for Realtime wake-ups")
    supabase_secret_key: str | None = Field(
        default=None, description="secret API key (sb_secret_…, or a legacy service_role JWT), for Realtime"
    )
    supabase_service_role_key: str | None = Field(
        default=None, description="legacy service_role JWT key, for Realtime (supabase_secret_key wins)"
    )
    wakeup: Literal["auto", "realtime", "listen", "poll"] = Field(
        default="auto",
        description="wake-up source: realtime when Supabase settings are given, else LISTEN/NOTIFY; poll only",
    )
    worker_id: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}",
        description="name of this replica in leases",
    )
    pool_size: int = Field(default=8, ge=2, le=100, description="database connections")
    event_batch_size: int = Field(default=50, ge=1, le=1000, description="inbound events claimed at once")
    message_batch_size: int = Field(
        default=500, ge=1, le=5000, description="messages claimed at once (at most one per WhatsApp session)"
    )
    send_concurrency: int = Field(
        default=500,
        ge=1,
        le=5000,
        description="messages in flight at once: being sent, or claimed ahead and waiting for their gap's end",
    )
    lease_seconds: int = Field(default=120, ge=5, le=900, description="lease on claimed rows")
    liveness_grace_seconds: float = Field(
        default=1.5,
        gt=0,
        le=60,
        description="a worker whose liveness lock stays free this long is dead: its sends are taken back",
    )
    liveness_probe_seconds: float = Field(
        default=0.25, gt=0, le=10, description="how often the worker checks its liveness connection and the others"
    )
    recovery_check_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="how often the worker asks whether a restore recovery is open (sends are held while one is)",
    )
    send_lookahead_seconds: float = Field(
        default=0.5,
        ge=0,
        le=4,
        description="claim a session's next message this long before its gap ends (the number check runs meanwhile)",
    )
    poll_interval_seconds: float = Field(default=5.0, gt=0, le=300, description="periodic poll, whatever wakes")
    retry_base_seconds: float = Field(default=30.0, gt=0, description="first retry delay (doubles each attempt)")
    retry_max_seconds: float = Field(default=1800.0, gt=0, description="longest retry delay")
    pms_timeout_seconds: float = Field(default=30.0, gt=0, le=300, description="timeout of one PMS API request")
    sync_concurrency: int = Field(
        default=2, ge=1, le=16, description="PMS sync jobs run at once (one long full sync never blocks the rest)"
    )
    waha_timeout_seconds: float = Field(default=15.0, gt=0, le=120, description="timeout of one WAHA request")
    session_check_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="how often paused WhatsApp sessions are asked whether they are back"
    )
    allow_local_urls: bool = Field(
        default=False,
        description="local development only: let tenants' WAHA/PMS URLs be http, any port, loopback or private",
    )
    # Auth's failed logins and refresh failures, from its logs (worker/ops/auth_logs.py): read when
    # both the project ref and a Management API access token are given.
    management_api_url: str = Field(default="https://api.supabase.com", description="Supabase Management API")
    management_api_token: str | None = Field(default=None, description="Management API access token (logs)")
    project_ref: str | None = Field(default=None, description="the project's ref, whose Auth logs are read")
    auth_logs_interval_seconds: float = Field(default=60.0, gt=0, le=3600, description="how often Auth's logs are read")
    auth_logs_lag_seconds: float = Field(
        default=60.0, ge=0, le=3600, description="read Auth's logs up to this long ago (they arrive late)"
    )
    # Writes row-level security refused, from the Postgres log (worker/ops/rls_logs.py): postgres_logs
    # through the Management API when it is configured (above), otherwise this jsonlog file, if given.
    postgres_log_file: str | None = Field(
        default=None, description="a local PostgreSQL's jsonlog file, read for the writes RLS refused"
    )
    rls_logs_interval_seconds: float = Field(
        default=60.0, gt=0, le=3600, description="how often the Postgres log is read for RLS refusals"
    )
    health_host: str = Field(default="0.0.0.0", description="address of /healthz, /readyz, /metrics")  # noqa: S104
    health_port: int = Field(default=8080, ge=0, le=65535, description="port of the health server (0: any)")
    shutdown_grace_seconds: float = Field(default=20.0, ge=0, le=600, description="time to finish in-flight work")
    log_level: str = Field(default="INFO", description="loguru level")
    log_json: bool = Field(default=True, description="one JSON object per log line")
    prepare_threshold: int | None = Field(
        default=5, description="psycopg server-side prepare threshold; empty for a transaction pooler"
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        if not value.startswith(("postgres://", "postgresql://")):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("supabase_secret_key", "supabase_service_role_key")
    @classmethod
    def _service_key(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        classify_service_key(value)  # raises ValueError with the reason
        return value.strip()

    @property
    def supabase_key(self) -> str | None:
        """The service-role key for Supabase's API: the secret key, else the legacy one."""
        return self.supabase_secret_key or self.supabase_service_role_key

    @field_validator("prepare_threshold", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def wakeup_source(self) -> Literal["realtime", "listen", "poll"]:
        if self.wakeup != "auto":
            return self.wakeup
        return "realtime" if self.supabase_url and self.supabase_key else "listen"


class SettingsError(Exception):
    """Settings that cannot start the worker; the message names each bad variable."""


def load_settings() -> Settings:
    try:
        return Settings()  # type: ignore[call-arg]  # values come from the environment
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "WORKER_" + "_".join(str(p) for p in error["loc"]).upper()
            reason = "is required" if error["type"] == "missing" else error["msg"].removeprefix("Value error, ")
            problems.append(f"{name} {reason}")
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None
