"""supabase/config.toml holds nothing that `supabase config push` or `functions deploy` would
carry wrongly to a hosted project (docs/deploy.md says what to set there)."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from devstack import paths


def config() -> dict[str, Any]:
    return tomllib.loads((paths.SUPABASE_DIR / "config.toml").read_text())


def test_deployment_specific_auth_urls_come_from_the_environment() -> None:
    auth = config()["auth"]
    assert re.fullmatch(r"env\(\w+\)", auth["site_url"])
    assert all(re.fullmatch(r"env\(\w+\)", url) for url in auth["additional_redirect_urls"])
    assert not re.search(r"127\.0\.0\.1|localhost", repr(auth))


def test_the_metrics_schema_is_exposed_with_the_api() -> None:
    assert "metrics" in config()["api"]["schemas"]


def test_no_function_relies_on_the_gateways_jwt_check() -> None:
    """waha-session and team-invite verify tokens themselves (the gateway refuses asymmetric
    ones); the webhooks are signed by their senders."""
    functions = config()["functions"]
    assert set(functions) == {"pms-webhook", "waha-webhook", "waha-session", "team-invite"}
    assert all(f["verify_jwt"] is False for f in functions.values())
