"""The Data API as supabase-js drives it: runs supabase_js.test.mjs (node:test) under Deno against
the same API (the local gateway, or a real project) with two hotels prepared here.

Deno rather than Node: supabase-js builds its Realtime client in createClient and needs a native
WebSocket, which the machines' Node 20 lacks (Node 22 has it); Deno has one, runs node:test, and
takes supabase-js from node_modules as package-lock.json pins it."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from devstack import paths
from devstack.gateway.config import ProjectConfig
from tests.data_api.support import PASSWORD, Api, Hotels, forged_tokens, realtime_url

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).with_name("supabase_js.test.mjs")
# what each forged token gets from PostgREST
FORGED_CODES = {
    "alg none": "PGRST301",
    "wrong key": "PGRST301",
    "wrong audience": "PGRST303",
    "expired": "PGRST303",
    "garbage": "PGRST301",
}


async def test_the_supabase_js_suite_passes(
    api: Api, hotels: Hotels, probe_functions: None, db: psycopg.Connection[tuple[object, ...]], clean_db: str
) -> None:
    deno = paths.VENV_BIN / "deno"
    package = paths.ROOT / "node_modules" / "@supabase" / "supabase-js" / "package.json"
    assert deno.exists() and package.exists(), "run `make setup` (Deno, and supabase-js from package-lock.json)"
    row = db.execute(
        "insert into public.message_templates (tenant_id, key, language, body) values (%s, 'welcome', 'en', 'Hi')"
        " returning id",
        (hotels.a.id,),
    ).fetchone()
    assert row is not None
    forged = forged_tokens(api, hotels.owner_a)
    fixture = {
        "remote": api.remote,
        "tenant_a": str(hotels.a.id),
        "owner_a": {"email": hotels.owner_a_email, "password": PASSWORD},
        "tenant_b": str(hotels.b.id),
        "messages_a": hotels.messages_a,
        "message_b": hotels.message_b,
        "template_a": str(row[0]),
        "tokens": {
            name: api.user_token(user)
            for name, user in (
                ("owner_a", hotels.owner_a),
                ("admin_a", hotels.admin_a),
                ("staff_a", hotels.staff_a),
                ("owner_b", hotels.owner_b),
            )
        }
        | {"service": api.service_token()},
        "forged": {name: [token, FORGED_CODES[name]] for name, token in forged.items()},
    }
    # the same API, with Realtime behind it and 5-second access tokens (a gateway of its own locally)
    five_seconds = replace(ProjectConfig.load().auth, jwt_expiry=5)
    async with realtime_url(api, clean_db, five_seconds) as url:
        report, returncode = await _run_suite(deno, fixture, url, api)
    assert returncode == 0, report
    assert "10 passed | 0 failed" in report, report

    # What the suite's refused writes must not have left behind.
    assert db.execute("select count(*) from public.message_templates where key like 'js\\_%'").fetchone() == (0,)
    assert db.execute("select body from public.message_templates where id = %s", (row[0],)).fetchone() == ("Hi",)


async def _run_suite(deno: Path, fixture: dict[str, object], url: str, api: Api) -> tuple[str, int | None]:
    env = {
        **os.environ,
        "SUPABASE_URL": url,
        "SUPABASE_PUBLISHABLE_KEY": api.publishable_key,
        "DATA_API_FIXTURE": json.dumps(fixture),
        "NO_COLOR": "1",
    }
    # A subprocess on the event loop: the gateway under test serves from this same loop.
    process = await asyncio.create_subprocess_exec(
        str(deno),
        "test",
        "--allow-env",
        "--allow-net",
        "--allow-read",
        "--no-lock",
        # a plain JavaScript file: nothing to type-check
        "--no-check",
        str(SCRIPT),
        cwd=paths.ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=110)
    return output.decode(errors="replace"), process.returncode
