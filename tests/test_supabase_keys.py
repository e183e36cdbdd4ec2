"""The worker's Supabase API key settings: new secret keys, legacy service_role JWTs meanwhile."""

from __future__ import annotations

import subprocess
import sys

import jwt
import pytest

from worker.settings import Settings, SettingsError, load_settings

DB = "postgresql://postgres@127.0.0.1:1/postgres"
SECRET = "sb_secret_N7UND0UgjKTVK-Uodkm0Hg_xSvEMPvz"
PUBLISHABLE = "sb_publishable_ZaC9l9p9eGs8UvE0UfVvoQ_uOPmMyg8"


def legacy_key(role: str) -> str:
    return jwt.encode({"iss": "supabase", "ref": "abcdefghijklmnopqrst", "role": role}, "x" * 32, algorithm="HS256")


def settings(**values: str) -> Settings:
    return Settings(database_url=DB, supabase_url="https://abcdefghijklmnopqrst.supabase.co", **values)  # type: ignore[arg-type]


def test_a_secret_key_turns_realtime_wake_ups_on() -> None:
    s = settings(supabase_secret_key=SECRET)
    assert s.supabase_key == SECRET
    assert s.wakeup_source == "realtime"


def test_the_legacy_service_role_key_is_still_accepted_and_the_secret_key_wins() -> None:
    legacy = legacy_key("service_role")
    assert settings(supabase_service_role_key=legacy).supabase_key == legacy
    assert settings(supabase_secret_key=legacy).supabase_key == legacy  # pasted into the new setting
    assert settings(supabase_service_role_key=legacy, supabase_secret_key=SECRET).supabase_key == SECRET
    assert settings().wakeup_source == "listen"  # no key: LISTEN/NOTIFY


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (PUBLISHABLE, "is a publishable key (the anon role); the worker needs a secret key (sb_secret_…)"),
        (legacy_key("anon"), "is a legacy JWT key of role 'anon'; the worker needs the service role"),
        ("not-a-key", "must be a secret key (sb_secret_…) or the legacy service_role JWT"),
        ("sb_secret_", "an sb_secret_ key has more after its prefix"),
    ],
)
def test_a_key_that_cannot_read_every_tenants_queue_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, key: str, reason: str
) -> None:
    monkeypatch.setenv("WORKER_DATABASE_URL", DB)
    monkeypatch.setenv("WORKER_SUPABASE_SECRET_KEY", key)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == f"invalid configuration: WORKER_SUPABASE_SECRET_KEY {reason}"


def test_the_worker_process_says_which_key_is_wrong() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "worker"],
        env={"PATH": "/usr/bin:/bin", "WORKER_DATABASE_URL": DB, "WORKER_SUPABASE_SERVICE_ROLE_KEY": PUBLISHABLE},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "worker: invalid configuration: WORKER_SUPABASE_SERVICE_ROLE_KEY is a publishable key (the anon role); "
        "the worker needs a secret key (sb_secret_…)"
    ]
