"""Bad input through the whole stack (gateway, Data API, PostgreSQL): every answer is a 4xx in
PostgREST's shape, never a 500, and no refused write leaves a row behind."""

from __future__ import annotations

import json
import random
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
import pytest

from tests.data_api.support import Api, Hotels

pytestmark = pytest.mark.slow

_PIECES = [
    "eq.",
    "neq.",
    "in.(",
    ")",
    "is.",
    "not.",
    "like.",
    "ilike.",
    "gt.",
    "or=(",
    "and(",
    "->",
    "->>",
    "::",
    ",",
    ".",
    "*",
    '"',
    "\\",
    "%",
    "null",
    "true",
    "id",
    "status",
    "body",
    "tenant_id",
    "-1",
    "99999999999999999999",
    "\u00e9",
    "'",
    ";",
    "%00",
    "select",
    "order",
    "limit",
]


def _junk(rng: random.Random) -> str:
    return "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 6)))


def _query(rng: random.Random) -> str:
    keys = ["select", "order", "limit", "offset", "or", "and", "id", "status", "body", "columns", "on_conflict"]
    well_formed = [
        "id=eq.{}",
        "status=in.({})",
        "body=ilike.*{}*",
        "or=(id.gt.{},status.is.null)",
        "select=id,{}",
        "order=id.{}",
        "limit={}",
    ]
    parts = []
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.4:
            # the grammar right, the values junk
            parts.append(rng.choice(well_formed).format(quote(_junk(rng), safe="")))
            continue
        key = rng.choice(keys) if rng.random() < 0.8 else _junk(rng)
        parts.append(f"{key}={_junk(rng)}")
    return "&".join(parts)


def _ascii_junk(rng: random.Random) -> str:
    """Junk for header values, which are ASCII on the wire."""
    return _junk(rng).encode("ascii", "ignore").decode()


def _headers(rng: random.Random) -> dict[str, str]:
    chosen: dict[str, str] = {}
    if rng.random() < 0.3:
        chosen["Prefer"] = rng.choice(
            ["return=representation", "count=exact", "resolution=merge-duplicates", _ascii_junk(rng)]
        )
    if rng.random() < 0.2:
        chosen["Accept"] = rng.choice(["application/vnd.pgrst.object+json", "text/csv", _ascii_junk(rng) or "*/*"])
    if rng.random() < 0.2:
        chosen["Range"] = rng.choice(["0-1", "3-1", "a-b", _ascii_junk(rng)])
    return chosen


def _body(rng: random.Random, tenant: str) -> bytes:
    choices: list[Any] = [
        {"tenant_id": tenant, "key": _junk(rng), "language": "en", "body": _junk(rng)},
        {"tenant_id": tenant, "key": "ok_key", "language": _junk(rng), "body": "x\u0000y"},
        [{"tenant_id": tenant, "key": "a_key"}, {"key": "b_key"}],
        {"tenant_id": _junk(rng), "key": "k", "language": "en", "body": "b"},
        {"no_such_column": 1},
        [],
        "just a string",
        None,
    ]
    body = json.dumps(rng.choice(choices)).encode()
    if rng.random() < 0.2:
        body = body[: rng.randint(0, len(body))]
    return body


async def test_random_bad_requests_get_4xx_answers_in_postgrests_shape(
    api: Api, hotels: Hotels, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    rng = random.Random(13)  # fixed: a failure replays
    token = api.user_token(hotels.staff_a)  # staff may not write templates: every write is refused
    seen: dict[int, int] = {}
    async with httpx.AsyncClient(base_url=f"{api.url}/rest/v1", timeout=30) as http:
        for _ in range(200):
            method = rng.choice(["GET", "GET", "HEAD", "POST", "PATCH", "DELETE"])
            table = rng.choice(
                ["message_logs", "message_templates", "rpc/resend_message", "t" + quote(_junk(rng), safe="")]
            )
            request_headers = {"apikey": api.publishable_key, "Authorization": f"Bearer {token}", **_headers(rng)}
            content = _body(rng, str(hotels.a.id)) if method in ("POST", "PATCH") else None
            if content is not None:
                request_headers["Content-Type"] = "application/json"
            response = await http.request(method, f"/{table}?{_query(rng)}", headers=request_headers, content=content)
            seen[response.status_code] = seen.get(response.status_code, 0) + 1
            assert response.status_code < 500, (method, table, response.request.url, response.text)
            if response.status_code >= 400 and method != "HEAD":
                assert response.headers["Content-Type"].startswith("application/json"), (
                    response.request.url,
                    response.text,
                )
                assert set(response.json()) == {"code", "message", "details", "hint"}, (
                    response.request.url,
                    response.text,
                )
    assert any(status >= 400 for status in seen) and any(status < 300 for status in seen), seen
    assert db.execute("select count(*) from public.message_templates").fetchone() == (0,)
    assert db.execute("select count(*) from public.message_logs").fetchone() == (6,)
