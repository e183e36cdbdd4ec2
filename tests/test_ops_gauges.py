"""The runbook figures per tenant on the worker's /metrics: refresh_gauges reads them from the
database and Prometheus' text format shows them; a deleted tenant's series disappear."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import Factory
from worker.db.pool import Pool, open_pool
from worker.metrics import REGISTRY
from worker.ops.gauges import refresh_gauges


@pytest.fixture
async def pool(clean_db: str) -> AsyncIterator[Pool]:
    pool = await open_pool(clean_db, min_size=1, max_size=2, name="gauges-test")
    try:
        yield pool
    finally:
        await pool.close()


def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    samples = {}
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], metric: str, /, **labels: str) -> float | None:
    return samples.get((metric, tuple(sorted(labels.items()))))


async def test_per_tenant_figures_reach_prometheus(db: psycopg.Connection[Any], factory: Factory, pool: Pool) -> None:
    a = factory.tenant("Gauge Hotel A")
    b = factory.tenant("Gauge Hotel B")
    factory.waha_configuration(a, status="WORKING")
    factory.waha_configuration(b, status="FAILED")
    factory.pms_configuration(b, health="failing")
    for n in range(8):
        factory.message(a, status="sent", waha_message_id=f"w-{n}", dedupe_key=f"s{n}")
    db.execute("update public.message_logs set sent_at = now() where status = 'sent'")
    factory.message(a, status="failed", last_error="WAHA 502", dedupe_key="f1")
    factory.message(a, status="dead", last_error="invalid number", dedupe_key="d1")

    db.execute(
        "select internal.record_webhook_refusals_v1(jsonb_build_array(jsonb_build_object('minute', now(),"
        " 'tenant_id', %s::text, 'source', 'pms', 'provider', 'generic', 'status', 401, 'reason', 'unauthorized',"
        " 'count', 3)))",
        (a.id,),
    )

    assert await refresh_gauges(pool) == 2
    samples = scrape()
    assert value(samples, "ops_tenant_webhooks_refused_15m", tenant=str(a.id), source="pms") == 3
    assert value(samples, "ops_tenant_webhooks_refused_15m", tenant=str(a.id), source="waha") == 0
    # Three refused, nothing stored: every PMS webhook attempted failed.
    assert value(samples, "ops_tenant_webhook_failure_ratio", tenant=str(a.id), source="pms") == 1
    ta, tb = str(a.id), str(b.id)
    assert value(samples, "ops_tenant_info", tenant=ta, name="Gauge Hotel A") == 1
    assert value(samples, "ops_tenant_message_failure_ratio", tenant=ta) == pytest.approx(0.2)
    assert value(samples, "ops_tenant_messages_sent_15m", tenant=ta) == 8
    assert value(samples, "ops_tenant_retry_depth", tenant=ta, queue="messages") == 1
    assert value(samples, "ops_tenant_dead_letters", tenant=ta, queue="messages") == 1
    assert value(samples, "ops_tenant_queue_depth", tenant=ta, queue="messages") == 1
    assert value(samples, "ops_tenant_whatsapp_connected", tenant=ta) == 1
    assert value(samples, "ops_tenant_whatsapp_connected", tenant=tb) == 0
    assert value(samples, "ops_tenant_pms_failing", tenant=tb) == 1
    # Nothing sent by B in the window: its rate is unknown, not 0%.
    rate_b = value(samples, "ops_tenant_message_failure_ratio", tenant=tb)
    assert rate_b is not None and math.isnan(rate_b)
    connections = value(samples, "ops_db_connections")
    assert connections is not None and connections >= 1

    db.execute("delete from public.tenants where id = %s", (b.id,))
    assert await refresh_gauges(pool) == 1
    samples = scrape()
    assert value(samples, "ops_tenant_pms_failing", tenant=tb) is None
    assert value(samples, "ops_tenant_info", tenant=tb, name="Gauge Hotel B") is None
    assert value(samples, "ops_tenant_info", tenant=ta, name="Gauge Hotel A") == 1
