"""The Data API (/rest/v1) as supabase-py drives it: reads, RPCs, writes, two hotels' isolation,
PostgREST's error answers, the statement timeout and forged tokens.

It runs against the local gateway (devstack/gateway), or against a real Supabase project when
SUPABASE_URL is set (tests/data_api/support.py says what else it needs). Statuses that the client
library hides are checked with plain HTTP next to it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from typing import Any

import httpx
import jwt
import psycopg
import pytest
from postgrest import APIError
from postgrest.types import CountMethod, ReturnMethod

from devstack.gateway.config import ProjectConfig
from devstack.gateway.server import Gateway
from supabase import AsyncClient, AsyncClientOptions, acreate_client
from tests.data_api.support import PASSWORD, Api, Hotels, forged_tokens, remote_api
from tests.factories import Factory, Tenant

pytestmark = pytest.mark.slow


async def client(api: Api, token: str | None = None, schema: str = "public") -> AsyncClient:
    """supabase-py as an app builds it: the publishable key, and a user's session when signed in."""
    options = AsyncClientOptions(schema=schema)
    if token is not None:
        options.headers = {**options.headers, "Authorization": f"Bearer {token}"}
    return await acreate_client(api.url, api.publishable_key, options)


async def raw(api: Api, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
    headers = {"apikey": api.publishable_key, **kwargs.pop("headers", {})}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(base_url=f"{api.url}/rest/v1", timeout=30) as http:
        return await http.request(method, path, headers=headers, **kwargs)


def rows(response: Any) -> list[dict[str, Any]]:
    """A response's rows (supabase-py types `data` as any JSON)."""
    data = response.data
    assert isinstance(data, list)
    return data


def column(response: Any, name: str) -> list[Any]:
    return [row[name] for row in rows(response)]


def ids(response: Any) -> list[int]:
    return column(response, "id")


def template(tenant: Tenant, key: str, body: str = "Hi {{guest_name}}", language: str = "en") -> dict[str, Any]:
    return {"tenant_id": str(tenant.id), "key": key, "language": language, "body": body}


# ---- a session from Auth ---------------------------------------------------------------------------
async def test_a_user_signed_in_through_auth_reads_and_writes_their_hotel(api: Api, hotels: Hotels) -> None:
    sb = await acreate_client(api.url, api.publishable_key, AsyncClientOptions(persist_session=False))
    await sb.auth.sign_in_with_password({"email": hotels.owner_a_email, "password": PASSWORD})
    tenants = await sb.table("tenants").select("id, name").execute()
    assert rows(tenants) == [{"id": str(hotels.a.id), "name": "Hotel A"}]
    created = await sb.table("message_templates").insert(template(hotels.a, "signed_in")).execute()
    assert rows(created)[0]["tenant_id"] == str(hotels.a.id)

    await sb.auth.sign_out()
    with pytest.raises(APIError) as signed_out:
        await sb.table("tenants").select("id").execute()
    assert signed_out.value.code == "42501"


async def test_tokens_from_an_auth_that_signs_with_es256_are_verified_by_its_jwks(
    clean_db: str, hotels: Hotels
) -> None:
    if remote_api() is not None:
        pytest.skip("which key signs a real project's tokens is the project's setting")
    es256 = replace(ProjectConfig.load().auth, signing_alg="ES256")
    async with Gateway(clean_db, auth=es256) as gateway:
        sb = await acreate_client(gateway.url, gateway.keys.publishable_key, AsyncClientOptions(persist_session=False))
        session = await sb.auth.sign_in_with_password({"email": hotels.owner_a_email, "password": PASSWORD})
        assert session.session is not None
        assert jwt.get_unverified_header(session.session.access_token)["alg"] == "ES256"
        tenants = await sb.table("tenants").select("id").execute()
        assert rows(tenants) == [{"id": str(hotels.a.id)}]


# ---- reads ----------------------------------------------------------------------------------------
async def test_a_table_with_column_grants_reads_the_granted_columns_and_refuses_the_others(
    api: Api, hotels: Hotels
) -> None:
    # tenant_invitations grants every column but token_hash to signed-in users (PostgREST selects
    # only the columns asked for, so column privileges hold per column).
    owner = await client(api, api.user_token(hotels.owner_a))
    await owner.rpc("invite_member", {"p_tenant_id": str(hotels.a.id), "p_email": "new@hotel-a.test"}).execute()
    listed = await owner.table("tenant_invitations").select("email, role").is_("accepted_at", "null").execute()
    assert rows(listed) == [{"email": "new@hotel-a.test", "role": "staff"}]
    with pytest.raises(APIError) as everything:
        await owner.table("tenant_invitations").select("*").execute()
    assert everything.value.code == "42501"


async def test_reads_filter_order_page_and_count_a_hotels_messages(api: Api, hotels: Hotels) -> None:
    sb = await client(api, api.user_token(hotels.staff_a))
    mine = hotels.messages_a

    everything = await sb.table("message_logs").select("id, status").order("id").execute()
    assert ids(everything) == mine
    assert set(rows(everything)[0]) == {"id", "status"}

    sent = await sb.table("message_logs").select("id").eq("status", "sent").order("id").execute()
    assert ids(sent) == mine[:2]
    not_sent = await sb.table("message_logs").select("id").neq("status", "sent").order("id").execute()
    assert ids(not_sent) == mine[2:]
    window = await sb.table("message_logs").select("id").gt("id", mine[0]).lte("id", mine[2]).order("id").execute()
    assert ids(window) == mine[1:3]
    chosen = await sb.table("message_logs").select("id").in_("status", ["dead", "failed"]).order("id").execute()
    assert ids(chosen) == [mine[2], mine[4]]
    ada = await sb.table("message_logs").select("id").like("body", "*Ada*").order("id").execute()
    assert ids(ada) == [mine[1], mine[3]]
    grace = await sb.table("message_logs").select("id").ilike("body", "%grace%").order("id").execute()
    assert ids(grace) == [mine[0], mine[2], mine[4]]
    no_reservation = await sb.table("message_logs").select("id").is_("reservation_id", "null").execute()
    assert len(no_reservation.data) == 5
    either = (
        await sb.table("message_logs").select("id").or_("status.eq.dead,template_key.eq.tpl_4").order("id").execute()
    )
    assert ids(either) == [mine[2], mine[4]]
    negated = await sb.table("message_logs").select("id").not_.in_("status", ["sent", "queued"]).order("id").execute()
    assert ids(negated) == [mine[2], mine[4]]

    newest_first = await sb.table("message_logs").select("id").order("id", desc=True).limit(2).execute()
    assert ids(newest_first) == [mine[4], mine[3]]
    page = await sb.table("message_logs").select("id", count=CountMethod.exact).order("id").range(1, 2).execute()
    assert ids(page) == mine[1:3]
    assert page.count == 5

    counted = (
        await sb.table("message_logs").select("*", count=CountMethod.exact, head=True).eq("status", "sent").execute()
    )
    assert counted.count == 2

    one = await sb.table("message_logs").select("id, body").eq("id", mine[3]).single().execute()
    assert one.data == {"id": mine[3], "body": "Hello Ada 3"}
    missing = await sb.table("message_logs").select("id").eq("id", hotels.message_b).maybe_single().execute()
    assert missing is None


async def test_range_headers_and_content_range_as_postgrest_answers(api: Api, hotels: Hotels) -> None:
    token = api.user_token(hotels.owner_a)
    page = await raw(
        api, "GET", "/message_logs?select=id&order=id", token, headers={"Range": "1-3", "Prefer": "count=exact"}
    )
    assert page.status_code == 206
    assert page.headers["Content-Range"] == "1-3/5"
    assert [r["id"] for r in page.json()] == hotels.messages_a[1:4]

    whole = await raw(api, "GET", "/message_logs?select=id", token, headers={"Prefer": "count=exact"})
    assert whole.status_code == 200
    assert whole.headers["Content-Range"] == "0-4/5"

    beyond = await raw(api, "GET", "/message_logs?offset=10", token, headers={"Prefer": "count=exact"})
    assert beyond.status_code == 416
    assert beyond.json()["code"] == "PGRST103"


async def test_profiles_choose_the_metrics_schema_and_nothing_outside_config_toml(api: Api, hotels: Hotels) -> None:
    sb = await client(api, api.user_token(hotels.owner_a), schema="metrics")
    depths = await sb.table("queue_depths").select("tenant_id").execute()
    assert set(column(depths, "tenant_id")) <= {str(hotels.a.id)}

    outside = await raw(api, "GET", "/alerts", api.user_token(hotels.owner_a), headers={"Accept-Profile": "ops"})
    assert outside.status_code == 406
    body = outside.json()
    assert body["code"] == "PGRST106"
    assert "public" in body["hint"] and "metrics" in body["hint"] and "ops" not in body["hint"]


async def test_embedding_along_foreign_keys_under_rls(api: Api, hotels: Hotels) -> None:
    owner_a = await client(api, api.user_token(hotels.owner_a))
    with_tenant = await owner_a.table("message_logs").select("id, hotel:tenants(name)").order("id").limit(2).execute()
    assert rows(with_tenant) == [{"id": i, "hotel": {"name": "Hotel A"}} for i in hotels.messages_a[:2]]

    spread = await owner_a.table("message_logs").select("id, ...tenants(hotel:name)").order("id").limit(1).execute()
    assert rows(spread) == [{"id": hotels.messages_a[0], "hotel": "Hotel A"}]

    dead_only = await (
        owner_a.table("tenants").select("name, message_logs(id, status)").eq("message_logs.status", "dead").execute()
    )
    assert rows(dead_only) == [{"name": "Hotel A", "message_logs": [{"id": hotels.messages_a[2], "status": "dead"}]}]

    owner_b = await client(api, api.user_token(hotels.owner_b))
    seen_by_b = await owner_b.table("tenants").select("name, message_logs(id)").execute()
    assert rows(seen_by_b) == [{"name": "Hotel B", "message_logs": [{"id": hotels.message_b}]}]
    failed_in_b = await (
        owner_b.table("tenants").select("name, message_logs!inner(id)").eq("message_logs.status", "failed").execute()
    )
    assert rows(failed_in_b) == []
    failed_in_a = await (
        owner_a.table("tenants")
        .select("name, message_logs!inner()", count=CountMethod.exact)
        .eq("message_logs.status", "failed")
        .execute()
    )
    assert rows(failed_in_a) == [{"name": "Hotel A"}]
    assert failed_in_a.count == 1


# ---- isolation ----------------------------------------------------------------------------------
async def test_a_member_of_hotel_b_neither_sees_nor_changes_hotel_a(
    api: Api, hotels: Hotels, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    owner_a = await client(api, api.user_token(hotels.owner_a))
    owner_b = await client(api, api.user_token(hotels.owner_b))
    created = await owner_a.table("message_templates").insert(template(hotels.a, "welcome")).execute()
    template_id = rows(created)[0]["id"]

    seen_by_b = await owner_b.table("message_logs").select("id, tenant_id").execute()
    assert ids(seen_by_b) == [hotels.message_b]
    tenants_b = await owner_b.table("tenants").select("id").execute()
    assert tenants_b.data == [{"id": str(hotels.b.id)}]
    assert (await owner_b.table("message_templates").select("id").eq("id", template_id).execute()).data == []

    changed = await owner_b.table("message_templates").update({"body": "pwned"}).eq("id", template_id).execute()
    assert changed.data == []
    removed = await owner_b.table("message_templates").delete().eq("id", template_id).execute()
    assert removed.data == []
    with pytest.raises(APIError) as planted:
        await owner_b.table("message_templates").insert(template(hotels.a, "planted")).execute()
    assert planted.value.code == "42501"
    with pytest.raises(APIError) as resent:
        await owner_b.rpc("resend_message", {"p_message_id": hotels.messages_a[2]}).execute()
    assert (resent.value.code, resent.value.message) == ("PT404", "message not found or not accessible")

    row = db.execute("select body from public.message_templates where id = %s", (template_id,)).fetchone()
    assert row == ("Hi {{guest_name}}",)
    status = db.execute(
        "select status::text from public.message_logs where id = %s", (hotels.messages_a[2],)
    ).fetchone()
    assert status == ("dead",)
    assert db.execute("select count(*) from public.message_templates").fetchone() == (1,)


async def test_anonymous_callers_get_401_and_signed_in_ones_403(api: Api, hotels: Hotels) -> None:
    anonymous = await raw(api, "GET", "/message_logs")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "42501"
    staff = await raw(
        api,
        "POST",
        "/message_logs",
        api.user_token(hotels.staff_a),
        json={"tenant_id": str(hotels.a.id), "template_key": "x", "dedupe_key": "x"},
    )
    assert staff.status_code == 403
    assert staff.json()["code"] == "42501"


# ---- RPC ------------------------------------------------------------------------------------------
async def test_rpc_with_named_arguments_as_each_role(
    api: Api, hotels: Hotels, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    dead = hotels.messages_a[2]
    # one answer for a caller without the right and for an id that does not exist
    for user, message_id in ((hotels.staff_a, dead), (hotels.owner_b, dead), (hotels.admin_a, 2**62)):
        with pytest.raises(APIError) as refused:
            await (
                (await client(api, api.user_token(user))).rpc("resend_message", {"p_message_id": message_id}).execute()
            )
        assert (refused.value.code, refused.value.message) == ("PT404", "message not found or not accessible")
    resent = (
        await (await client(api, api.user_token(hotels.admin_a)))
        .rpc("resend_message", {"p_message_id": dead})
        .execute()
    )
    assert resent.data is True
    assert db.execute("select status::text from public.message_logs where id = %s", (dead,)).fetchone() == ("queued",)

    newcomer = await client(api, api.user_token(hotels.owner_b))
    # A new hotel group needs the platform's invitation for a confirmed address (supabase/functions/README.md).
    with pytest.raises(APIError) as uninvited:
        await newcomer.rpc("create_tenant", {"p_name": "Hotel C"}).execute()
    assert uninvited.value.code == "42501"
    db.execute(
        "update auth.users set email_confirmed_at = now() where id = %s returning private.invite_tenant_owner(email)",
        (hotels.owner_b,),
    )
    tenant_id = (await newcomer.rpc("create_tenant", {"p_name": "Hotel C"}).execute()).data
    assert isinstance(tenant_id, str) and uuid.UUID(tenant_id)
    members = await newcomer.table("tenant_members").select("role").eq("tenant_id", tenant_id).execute()
    assert members.data == [{"role": "owner"}]

    metrics = await client(api, api.user_token(hotels.owner_a), schema="metrics")
    figures = await metrics.rpc("tenant_metrics", {"p_tenant_id": str(hotels.b.id)}).execute()
    assert figures.data == []
    own = await metrics.rpc("tenant_metrics", {}).execute()
    assert column(own, "tenant_id") == [str(hotels.a.id)]
    # a stable function is also served by GET, its arguments in the query string
    read_only = await metrics.rpc("tenant_metrics", {"p_tenant_id": str(hotels.a.id)}, get=True).execute()
    assert column(read_only, "tenant_name") == ["Hotel A"]
    filtered = await metrics.rpc("tenant_metrics", {}).eq("tenant_id", str(hotels.b.id)).execute()
    assert rows(filtered) == []


async def test_an_rpc_refusal_is_a_client_error(api: Api, hotels: Hotels) -> None:
    response = await raw(
        api, "POST", "/rpc/resend_message", api.user_token(hotels.owner_b), json={"p_message_id": hotels.messages_a[2]}
    )
    # The one answer is PostgREST's custom status PT404: a 404, never PL/pgSQL's P0002 (a 500).
    assert (response.status_code, response.json()["code"]) == (404, "PT404"), response.text


async def test_rpc_errors_name_the_function_and_the_missing_arguments(api: Api, hotels: Hotels) -> None:
    token = api.user_token(hotels.owner_a)
    unknown = await raw(api, "POST", "/rpc/no_such_function", token, json={})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "PGRST202"
    wrong_args = await raw(api, "POST", "/rpc/resend_message", token, json={"message_id": 1})
    assert wrong_args.status_code == 404
    assert wrong_args.json()["code"] == "PGRST202"
    anon = await raw(api, "POST", "/rpc/resend_message", None, json={"p_message_id": hotels.messages_a[2]})
    assert anon.status_code == 401
    assert anon.json()["code"] == "42501"


# ---- writes ---------------------------------------------------------------------------------------
async def test_writes_with_return_preferences_and_upserts(
    api: Api, hotels: Hotels, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    sb = await client(api, api.user_token(hotels.admin_a))
    created = await sb.table("message_templates").insert(template(hotels.a, "welcome", "Hello")).execute()
    assert rows(created)[0]["body"] == "Hello" and rows(created)[0]["key"] == "welcome"

    minimal = (
        await sb.table("message_templates").insert(template(hotels.a, "bye"), returning=ReturnMethod.minimal).execute()
    )
    assert minimal.data == []

    merged = await (
        sb.table("message_templates")
        .upsert(template(hotels.a, "welcome", "Hello again"), on_conflict="tenant_id,key,language")
        .execute()
    )
    assert rows(merged)[0]["id"] == rows(created)[0]["id"] and rows(merged)[0]["body"] == "Hello again"
    ignored = await (
        sb.table("message_templates")
        .upsert(template(hotels.a, "welcome", "ignored"), on_conflict="tenant_id,key,language", ignore_duplicates=True)
        .execute()
    )
    assert ignored.data == []

    with pytest.raises(APIError) as duplicate:
        await sb.table("message_templates").insert(template(hotels.a, "welcome")).execute()
    assert duplicate.value.code == "23505"

    updated = await sb.table("message_templates").update({"body": "Bye!"}).eq("key", "bye").execute()
    assert column(updated, "body") == ["Bye!"]
    deleted = await sb.table("message_templates").delete(count=CountMethod.exact).eq("key", "bye").execute()
    assert deleted.count == 1

    stored = db.execute("select key, body from public.message_templates order by key").fetchall()
    assert stored == [("welcome", "Hello again")]


async def test_return_headers_only_answers_where_the_row_is(api: Api, hotels: Hotels) -> None:
    token = api.user_token(hotels.admin_a)
    created = await raw(
        api,
        "POST",
        "/message_templates",
        token,
        json=template(hotels.a, "located"),
        headers={"Prefer": "return=headers-only"},
    )
    assert created.status_code == 201
    assert created.content == b""
    location = created.headers["Location"]
    assert location.startswith("/message_templates?id=eq.")
    found = await raw(api, "GET", location + "&select=key", token)
    assert found.json() == [{"key": "located"}]


async def test_a_bulk_insert_with_one_bad_row_writes_nothing(
    api: Api, hotels: Hotels, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    sb = await client(api, api.user_token(hotels.owner_a))
    good = template(hotels.a, "first")
    bad = template(hotels.a, "Not A Key")  # the key check refuses upper case and spaces
    with pytest.raises(APIError) as refused:
        await sb.table("message_templates").insert([good, bad]).execute()
    assert refused.value.code == "23514"
    assert db.execute("select count(*) from public.message_templates").fetchone() == (0,)


# ---- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/message_logs?id=eq", 400, "PGRST100"),  # no value
        ("/message_logs?id=equals.1", 400, "PGRST100"),  # no such operator
        ("/message_logs?or=(id.eq.1", 400, "PGRST100"),  # unbalanced logic tree
        ("/message_logs?order=id.sideways", 400, "PGRST100"),
        ("/message_logs?limit=ten", 400, "PGRST100"),
        ("/message_logs?select=no_such_column", 400, "42703"),
        ("/message_logs?no_such_column=eq.1", 400, "42703"),
        ("/message_logs?id=eq.not-a-number", 400, "22P02"),
        ("/tenants?select=name,...message_logs(id)", 400, "PGRST127"),  # spreading to-many: not served here
        ("/message_logs?select=id,no_such_table(name)", 400, "PGRST200"),
        ("/message_logs?tenants.name=eq.x", 400, "PGRST108"),
        ("/message_logs?body=fts.hello", 400, "PGRST127"),
        ("/no_such_table", 404, "PGRST205"),
    ],
)
async def test_bad_queries_get_postgrest_answers(api: Api, hotels: Hotels, path: str, status: int, code: str) -> None:
    response = await raw(api, "GET", path, api.user_token(hotels.owner_a))
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert set(body) == {"code", "message", "details", "hint"}
    assert body["message"]


async def test_singular_answers_and_media_types(api: Api, hotels: Hotels) -> None:
    token = api.user_token(hotels.owner_a)
    many = await raw(api, "GET", "/message_logs", token, headers={"Accept": "application/vnd.pgrst.object+json"})
    assert many.status_code == 406
    assert many.json() == {
        "code": "PGRST116",
        "details": "The result contains 5 rows",
        "hint": None,
        "message": "Cannot coerce the result to a single JSON object",
    }
    csv = await raw(api, "GET", "/message_logs", token, headers={"Accept": "text/csv"})
    assert csv.status_code == 406
    assert csv.json()["code"] == "PGRST107"


async def test_a_single_row_write_that_hits_several_rows_is_rolled_back(
    api: Api, hotels: Hotels, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    sb = await client(api, api.user_token(hotels.owner_a))
    await sb.table("message_templates").insert([template(hotels.a, "one"), template(hotels.a, "two")]).execute()
    response = await raw(
        api,
        "PATCH",
        "/message_templates?tenant_id=eq." + str(hotels.a.id),
        api.user_token(hotels.owner_a),
        json={"body": "changed"},
        headers={"Accept": "application/vnd.pgrst.object+json", "Prefer": "return=representation"},
    )
    assert response.status_code == 406
    assert response.json()["details"] == "The result contains 2 rows"
    assert db.execute("select count(*) from public.message_templates where body = 'changed'").fetchone() == (0,)


async def test_malformed_bodies_write_nothing(
    api: Api, hotels: Hotels, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    token = api.user_token(hotels.owner_a)
    broken = await raw(
        api, "POST", "/message_templates", token, content=b'{"key": ', headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["code"] == "PGRST102"
    unknown = await raw(api, "POST", "/message_templates", token, json={**template(hotels.a, "x"), "colour": "red"})
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "PGRST204"
    assert db.execute("select count(*) from public.message_templates").fetchone() == (0,)


async def test_an_over_long_body_is_refused_whole(
    api: Api, hotels: Hotels, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    if api.remote:
        pytest.skip("the 1 MiB body limit is the local gateway's; hosted Supabase documents none for the Data API")
    token = api.user_token(hotels.owner_a)
    huge = [template(hotels.a, f"k{i}", "x" * 4000) for i in range(400)]  # about 1.7 MB
    too_long = await raw(api, "POST", "/message_templates", token, json=huge)
    assert too_long.status_code == 413
    assert too_long.json() == {"message": "Request size limit exceeded"}
    assert db.execute("select count(*) from public.message_templates").fetchone() == (0,)


# ---- tokens ---------------------------------------------------------------------------------------
async def test_forged_or_expired_tokens_are_refused_before_any_write(
    api: Api, hotels: Hotels, db: psycopg.Connection[tuple[object, ...]]
) -> None:
    expected = {
        "alg none": "PGRST301",
        "wrong key": "PGRST301",
        "wrong audience": "PGRST303",
        "expired": "PGRST303",
        "garbage": "PGRST301",
    }
    for name, token in forged_tokens(api, hotels.owner_a).items():
        response = await raw(api, "POST", "/message_templates", token, json=template(hotels.a, "forged"))
        assert response.status_code == 401, name
        assert response.json()["code"] == expected[name], name
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), name
    assert db.execute("select count(*) from public.message_templates").fetchone() == (0,)


async def test_tokens_signed_with_auths_asymmetric_key_are_accepted(api: Api, hotels: Hotels) -> None:
    if api.signing_key is None:
        pytest.skip("the project's private signing key is Auth's own on a real project")
    now = int(time.time())
    claims = {"sub": str(hotels.owner_a), "role": "authenticated", "aud": "authenticated", "iat": now, "exp": now + 60}
    token = jwt.encode(claims, api.signing_key, algorithm="ES256", headers={"kid": api.kid})
    sb = await client(api, token)
    tenants = await sb.table("tenants").select("id").execute()
    assert tenants.data == [{"id": str(hotels.a.id)}]


# ---- the request context and the statement timeout ------------------------------------------------
async def test_each_request_runs_as_its_role_with_postgrests_settings(
    api: Api, hotels: Hotels, probe_functions: None
) -> None:
    token = api.user_token(hotels.staff_a)
    signed_in = await raw(api, "POST", "/rpc/test_request_context", token, json={}, headers={"X-Probe": "yes"})
    assert signed_in.status_code == 200, signed_in.text
    context = signed_in.json()
    assert context["method"] == "POST"
    assert context["path"] == "/rpc/test_request_context"
    assert context["headers"]["x-probe"] == "yes"
    assert context["role"] == "authenticated"
    assert context["uid"] == str(hotels.staff_a)
    assert context["claims"]["sub"] == str(hotels.staff_a) and context["claims"]["aal"] == "aal1"
    assert context["timeout"] == "8s"

    anonymous = await raw(api, "GET", "/rpc/test_request_context")
    assert anonymous.status_code == 200, anonymous.text
    assert anonymous.json()["role"] == "anon"
    assert anonymous.json()["method"] == "GET"
    assert anonymous.json()["timeout"] == "3s"


async def test_a_slow_query_as_a_signed_in_user_hits_the_statement_timeout(
    api: Api, hotels: Hotels, probe_functions: None
) -> None:
    sb = await client(api, api.user_token(hotels.owner_a))
    quick = await sb.rpc("test_slow", {"p_seconds": 0.01}).execute()
    assert quick.data == 1
    response = await raw(api, "POST", "/rpc/test_slow", api.user_token(hotels.owner_a), json={"p_seconds": 30})
    assert response.status_code == 500
    assert response.json()["code"] == "57014"
    assert response.json()["message"] == "canceling statement due to statement timeout"


# ---- the tenant RPCs, each for each role ------------------------------------------------------------
_MEMBERS = ("owner", "admin")
_EVERYONE = ("owner", "admin", "staff")
# rpc: who may call it (anyone else gets the one answer, PT404; anon is not granted it: 42501)
_RPC_RIGHTS: dict[str, tuple[str, ...]] = {
    "invite_member": _MEMBERS,
    "revoke_invitation": _MEMBERS,
    "change_member_role": _MEMBERS,
    "remove_member": _MEMBERS,
    "pause_tenant_sends": _MEMBERS,
    "resume_tenant_sends": _MEMBERS,
    "set_guest_opt_in": _EVERYONE,
    "resend_message": _MEMBERS,
    "resend_messages": _MEMBERS,
    "replay_inbound_events": _MEMBERS,
    "search_reservations": _EVERYONE,
}


def _rpc_arguments(
    rpc: str, hotels: Hotels, factory: Factory, db: psycopg.Connection[tuple[object, ...]]
) -> dict[str, Any]:
    a = str(hotels.a.id)
    if rpc == "invite_member":
        return {"p_tenant_id": a, "p_email": "new.colleague@example.com", "p_role": "staff"}
    if rpc == "revoke_invitation":
        row = db.execute(
            "select invitation_id from public.invite_member(%s, 'invited@example.com', 'staff')", (hotels.a.id,)
        ).fetchone()
        assert row is not None
        return {"p_invitation_id": str(row[0])}
    if rpc == "change_member_role":
        return {"p_tenant_id": a, "p_user_id": str(factory.member(hotels.a, "staff")), "p_role": "admin"}
    if rpc == "remove_member":
        return {"p_tenant_id": a, "p_user_id": str(factory.member(hotels.a, "staff"))}
    if rpc == "pause_tenant_sends":
        return {"p_tenant_id": a, "p_reason": "checking the new templates"}
    if rpc == "resume_tenant_sends":
        return {"p_tenant_id": a}
    if rpc == "set_guest_opt_in":
        reservation = factory.reservation(hotels.a)
        row = db.execute("select guest_id from public.reservations where id = %s", (reservation,)).fetchone()
        assert row is not None
        return {"p_guest_id": str(row[0]), "p_opt_in": False, "p_reason": "asked at the front desk"}
    if rpc == "resend_message":
        return {"p_message_id": hotels.messages_a[2]}
    if rpc == "resend_messages":
        return {"p_tenant_id": a, "p_ids": hotels.messages_a}
    if rpc == "replay_inbound_events":
        return {"p_tenant_id": a, "p_ids": []}
    assert rpc == "search_reservations"
    factory.reservation(hotels.a)
    return {"p_tenant_id": a, "p_query": "Ada"}


@pytest.mark.parametrize("role", ["owner", "admin", "staff", "outsider", "anon"])
@pytest.mark.parametrize("rpc", sorted(_RPC_RIGHTS))
async def test_every_tenant_rpc_for_every_role(
    api: Api, hotels: Hotels, factory: Factory, db: psycopg.Connection[tuple[object, ...]], rpc: str, role: str
) -> None:
    user = {
        "owner": hotels.owner_a,
        "admin": hotels.admin_a,
        "staff": hotels.staff_a,
        "outsider": hotels.owner_b,
        "anon": None,
    }[role]
    sb = await client(api, None if user is None else api.user_token(user))
    call = sb.rpc(rpc, _rpc_arguments(rpc, hotels, factory, db))
    if role in _RPC_RIGHTS[rpc]:
        answer = await call.execute()
        if rpc == "search_reservations":
            assert len(rows(answer)) == 1
        return
    if rpc == "search_reservations" and role == "outsider":
        # a search of another hotel finds nothing, as a search that matches nothing
        assert rows(await call.execute()) == []
        return
    with pytest.raises(APIError) as refused:
        await call.execute()
    if role == "anon":
        assert refused.value.code == "42501"
    else:
        assert refused.value.code == "PT404"
        assert str(refused.value.message).endswith("not found or not accessible")
