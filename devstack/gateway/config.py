"""What the gateway and its services read from supabase/config.toml (the Supabase CLI's file)."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack import paths

CONFIG_FILE = paths.SUPABASE_DIR / "config.toml"


_ENV = re.compile(r"^env\(([A-Za-z_][A-Za-z0-9_]*)\)$")


def _resolved(value: object) -> str | None:
    """A config.toml string with the CLI's env(NAME) substitution; None when NAME is not set."""
    text = str(value)
    match = _ENV.match(text.strip())
    if match is None:
        return text
    return os.environ.get(match.group(1)) or None


def _duration_seconds(value: object, default: float) -> float:
    """The CLI's durations: "1s", "60s", "5m", "1h", or a number of seconds."""
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or not value:
        return default
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for suffix in ("ms", "s", "m", "h"):
        if value.endswith(suffix) and value[: -len(suffix)].replace(".", "", 1).isdigit():
            return float(value[: -len(suffix)]) * units[suffix]
    return default


@dataclass(frozen=True)
class RateLimits:
    """[auth.rate_limit]: requests per 5 minutes per IP address, as GoTrue counts them."""

    sign_in_sign_ups: int = 30
    token_refresh: int = 150
    token_verifications: int = 30
    email_sent: int = 2  # per hour, for the whole project
    window_seconds: float = 300.0


@dataclass(frozen=True)
class AuthSettings:
    site_url: str = "http://127.0.0.1:3000"
    additional_redirect_urls: tuple[str, ...] = ()
    jwt_expiry: int = 3600
    enable_refresh_token_rotation: bool = True
    refresh_token_reuse_interval: int = 10
    enable_signup: bool = True
    minimum_password_length: int = 6
    email_enable_signup: bool = True
    email_enable_confirmations: bool = False
    email_max_frequency_seconds: float = 1.0
    otp_expiry: int = 3600
    rate_limit: RateLimits = field(default_factory=RateLimits)
    # Local choices, not in config.toml: the `iss` claim, and which key signs access tokens.
    issuer: str = ""
    signing_alg: str = "HS256"

    @classmethod
    def from_toml(cls, auth: dict[str, Any]) -> AuthSettings:
        email = auth.get("email", {})
        limits = auth.get("rate_limit", {})
        defaults = cls()
        rl = RateLimits()
        urls = (_resolved(u) for u in auth.get("additional_redirect_urls", ()))
        return cls(
            # Unset env() values fall back to the CLI's local defaults.
            site_url=_resolved(auth.get("site_url", defaults.site_url)) or defaults.site_url,
            additional_redirect_urls=tuple(u for u in urls if u),
            jwt_expiry=int(auth.get("jwt_expiry", defaults.jwt_expiry)),
            enable_refresh_token_rotation=bool(
                auth.get("enable_refresh_token_rotation", defaults.enable_refresh_token_rotation)
            ),
            refresh_token_reuse_interval=int(
                auth.get("refresh_token_reuse_interval", defaults.refresh_token_reuse_interval)
            ),
            enable_signup=bool(auth.get("enable_signup", defaults.enable_signup)),
            minimum_password_length=int(auth.get("minimum_password_length", defaults.minimum_password_length)),
            email_enable_signup=bool(email.get("enable_signup", defaults.email_enable_signup)),
            email_enable_confirmations=bool(email.get("enable_confirmations", defaults.email_enable_confirmations)),
            email_max_frequency_seconds=_duration_seconds(
                email.get("max_frequency"), defaults.email_max_frequency_seconds
            ),
            otp_expiry=int(email.get("otp_expiry", defaults.otp_expiry)),
            rate_limit=RateLimits(
                sign_in_sign_ups=int(limits.get("sign_in_sign_ups", rl.sign_in_sign_ups)),
                token_refresh=int(limits.get("token_refresh", rl.token_refresh)),
                token_verifications=int(limits.get("token_verifications", rl.token_verifications)),
                email_sent=int(limits.get("email_sent", rl.email_sent)),
            ),
        )


@dataclass(frozen=True)
class ProjectConfig:
    """The parts of config.toml the local API serves by."""

    api_schemas: tuple[str, ...] = ("public", "graphql_public")
    api_max_rows: int = 1000
    auth: AuthSettings = field(default_factory=AuthSettings)

    @classmethod
    def load(cls, path: Path = CONFIG_FILE) -> ProjectConfig:
        data = tomllib.loads(path.read_text())
        api = data.get("api", {})
        return cls(
            api_schemas=tuple(api.get("schemas", cls.api_schemas)),
            api_max_rows=int(api.get("max_rows", cls.api_max_rows)),
            auth=AuthSettings.from_toml(data.get("auth", {})),
        )
