"""The outbound URL policy, one set of cases (shared/vectors/outbound-urls.json) for its three
implementations: the database's check where a URL is saved (private.url_refusal and the
triggers), and the worker's check where it is used (worker/url_guard.py). The Deno copy is
tested against the same file in supabase/functions/_shared/url_guard_test.ts."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

import psycopg
import pytest

from devstack import paths
from tests.factories import Factory, acting_as
from worker.url_guard import address_refusal, url_refusal

VECTORS: list[dict[str, Any]] = json.loads((paths.ROOT / "shared/vectors/outbound-urls.json").read_text())["urls"]


@pytest.mark.parametrize("case", VECTORS, ids=[c["url"] for c in VECTORS])
def test_the_worker_applies_the_policy(case: dict[str, Any]) -> None:
    assert (url_refusal(case["url"], allow_local=False) is None) == case["public"]
    assert (url_refusal(case["url"], allow_local=True) is None) == case["local"]


def test_the_database_applies_the_same_policy(db: psycopg.Connection[Any]) -> None:
    for case in VECTORS:
        row = db.execute(
            "select private.url_refusal(%s, false), private.url_refusal(%s, true)", (case["url"], case["url"])
        ).fetchone()
        assert row is not None
        assert (row[0] is None, row[1] is None) == (case["public"], case["local"]), (case, row)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("::ffff:10.0.0.1", False),
        ("fd12::1", False),
        ("100.100.100.200", False),
    ],
)
def test_resolved_addresses_are_judged_alike(address: str, allowed: bool) -> None:
    assert (address_refusal(ipaddress.ip_address(address)) is None) == allowed


@pytest.mark.usefixtures("deployed_url_policy")
@pytest.mark.parametrize(
    ("statement", "column"),
    [
        ("update public.tenants set notification_url = %(url)s where id = %(tenant)s", "tenants.notification_url"),
        (
            "insert into public.waha_configurations (tenant_id, base_url) values (%(tenant)s, %(url)s)",
            "waha_configurations.base_url",
        ),
        (
            "insert into public.pms_configurations (tenant_id, provider, api_base_url)"
            " values (%(tenant)s, 'generic', %(url)s)",
            "pms_configurations.api_base_url",
        ),
    ],
)
def test_every_tenant_url_is_checked_where_it_is_saved(
    db: psycopg.Connection[Any], factory: Factory, statement: str, column: str
) -> None:
    tenant = factory.tenant()
    for url in ("https://169.254.169.254/latest/meta-data/", "http://127.0.0.1:8080/", "https://0x7f000001/"):
        with pytest.raises(psycopg.errors.CheckViolation, match=re.escape(f"{column} is not allowed: ")):
            db.execute(statement, {"tenant": tenant.id, "url": url})
    db.execute(statement, {"tenant": tenant.id, "url": "https://api.hotel-example.com/v1"})


@pytest.mark.usefixtures("deployed_url_policy")
def test_urls_inside_pms_credentials_are_checked_too(db: psycopg.Connection[Any], factory: Factory) -> None:
    tenant = factory.tenant()
    config = db.execute(
        "insert into public.pms_configurations (tenant_id, provider, api_base_url)"
        " values (%s, 'apaleo', 'https://api.apaleo.com') returning id",
        (tenant.id,),
    ).fetchone()
    assert config is not None
    with pytest.raises(psycopg.errors.CheckViolation, match=r"credentials\.token_url is not allowed: it points at a"):
        db.execute(
            "select public.set_pms_credentials(%s, %s)",
            (config[0], json.dumps({"client_id": "x", "token_url": "https://10.1.2.3/connect/token"})),
        )


@pytest.mark.usefixtures("deployed_url_policy")
def test_a_tenant_owner_through_the_api_gets_the_reason_not_a_permission_error(
    db: psycopg.Connection[Any], factory: Factory
) -> None:
    """The check reads the platform setting, which tenant users cannot: it must still answer
    with the rule, for an owner updating the tenant through PostgREST."""
    tenant = factory.tenant()
    owner = factory.member(tenant, "owner")
    with acting_as(db, owner) as cur:
        cur.execute(
            "update public.tenants set notification_url = 'https://hooks.hotel-example.com/x' where id = %s",
            (tenant.id,),
        )
        assert cur.rowcount == 1
    with acting_as(db, owner) as cur, pytest.raises(psycopg.errors.CheckViolation, match="it points at a loopback"):
        cur.execute("update public.tenants set notification_url = 'https://127.0.0.1/' where id = %s", (tenant.id,))
    with acting_as(db, owner) as cur, pytest.raises(psycopg.errors.CheckViolation, match="link-local"):
        cur.execute(
            "insert into public.waha_configurations (tenant_id, base_url) values (%s, 'https://169.254.169.254')",
            (tenant.id,),
        )
