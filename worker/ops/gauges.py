"""The runbook's figures per tenant on the worker's /metrics, for Prometheus.

The values come from the same SQL as the dashboard and the alert rules (metrics.tenant_metrics
over the rules' 15-minute window, metrics.queue_depths, metrics.waha_sessions, ops.alerts), so a
Prometheus alert and a database alert see the same numbers. Call refresh_gauges(pool) from the
worker's stats loop; one call is a handful of index scans and one round trip per query.

Series are labelled with the tenant id (stable); ops_tenant_info maps it to the tenant's name.
A rate with nothing to measure in the window is NaN, which no Prometheus comparison matches.
"""

from __future__ import annotations

import math
from typing import Any

from prometheus_client import Gauge

from worker.db.pool import Pool
from worker.db.queries import load
from worker.metrics import REGISTRY

TENANT_INFO = Gauge(
    "ops_tenant_info", "1 per tenant; maps the tenant label to its name", ["tenant", "name"], registry=REGISTRY
)
QUEUE_DEPTH = Gauge(
    "ops_tenant_queue_depth",
    "Rows due now per tenant (inbound, messages, syncs)",
    ["tenant", "queue"],
    registry=REGISTRY,
)
RETRY_DEPTH = Gauge(
    "ops_tenant_retry_depth", "Rows waiting for a retry per tenant", ["tenant", "queue"], registry=REGISTRY
)
DEAD_LETTERS = Gauge("ops_tenant_dead_letters", "Dead rows per tenant", ["tenant", "queue"], registry=REGISTRY)
MESSAGE_FAILURE = Gauge(
    "ops_tenant_message_failure_ratio",
    "Messages failed or dead / messages attempted (sent, failed or dead), last 15 minutes",
    ["tenant"],
    registry=REGISTRY,
)
MESSAGE_DELIVERY = Gauge(
    "ops_tenant_message_delivery_ratio",
    "Messages delivered or read / messages attempted (sent, failed or dead), last 15 minutes",
    ["tenant"],
    registry=REGISTRY,
)
WEBHOOK_FAILURE = Gauge(
    "ops_tenant_webhook_failure_ratio",
    "Webhooks of the last 15 minutes dead, waiting for a retry or refused at the edge / all attempted",
    ["tenant", "source"],
    registry=REGISTRY,
)
WEBHOOKS_REFUSED = Gauge(
    "ops_tenant_webhooks_refused_15m",
    "Webhooks the edge refused (4xx) in the last 15 minutes",
    ["tenant", "source"],
    registry=REGISTRY,
)
MESSAGES_SENT = Gauge(
    "ops_tenant_messages_sent_15m", "Messages sent in the last 15 minutes", ["tenant"], registry=REGISTRY
)
WEBHOOKS_RECEIVED = Gauge(
    "ops_tenant_webhooks_received_15m", "Webhooks received in the last 15 minutes", ["tenant"], registry=REGISTRY
)
WHATSAPP_CONNECTED = Gauge(
    "ops_tenant_whatsapp_connected", "1 while the tenant's WAHA session is WORKING", ["tenant"], registry=REGISTRY
)
PMS_FAILING = Gauge(
    "ops_tenant_pms_failing", "Active PMS configurations of the tenant that are failing", ["tenant"], registry=REGISTRY
)
TENANT_ALERTS = Gauge("ops_tenant_alerts_open", "Open alerts of the tenant", ["tenant"], registry=REGISTRY)
DB_CONNECTION_USAGE = Gauge(
    "ops_db_connection_usage_ratio", "Client connections / usable max_connections", registry=REGISTRY
)
DB_CONNECTIONS = Gauge("ops_db_connections", "Client connections to the database", registry=REGISTRY)
DB_LONGEST_QUERY = Gauge("ops_db_longest_query_seconds", "Duration of the longest query running now", registry=REGISTRY)
DENIED_CALLS = Gauge(
    "ops_denied_admin_calls_15m", "Admin calls refused for lack of tenant rights, last 15 minutes", registry=REGISTRY
)
RLS_REFUSED = Gauge(
    "ops_rls_refused_writes_15m",
    "Writes row-level security refused (from the Postgres log), last 15 minutes; NaN before the log is read",
    registry=REGISTRY,
)
ALERTS_OPEN = Gauge("ops_alerts_open", "Open alerts by severity", ["severity"], registry=REGISTRY)

_PER_TENANT: tuple[Gauge, ...] = (
    TENANT_INFO,
    QUEUE_DEPTH,
    RETRY_DEPTH,
    DEAD_LETTERS,
    MESSAGE_FAILURE,
    MESSAGE_DELIVERY,
    WEBHOOK_FAILURE,
    WEBHOOKS_REFUSED,
    MESSAGES_SENT,
    WEBHOOKS_RECEIVED,
    WHATSAPP_CONNECTED,
    PMS_FAILING,
    TENANT_ALERTS,
)

# Label sets written by the previous refresh, so a deleted tenant's series disappear.
_written: dict[Gauge, set[tuple[str, ...]]] = {gauge: set() for gauge in _PER_TENANT}


def _ratio(value: Any) -> float:
    return math.nan if value is None else float(value)


class _Batch:
    """The label sets one refresh writes; the ones it does not write are removed afterwards."""

    def __init__(self) -> None:
        self.seen: dict[Gauge, set[tuple[str, ...]]] = {gauge: set() for gauge in _PER_TENANT}

    def set(self, gauge: Gauge, labels: tuple[str, ...], value: float) -> None:
        gauge.labels(*labels).set(value)
        self.seen[gauge].add(labels)

    def finish(self) -> None:
        for gauge, labels in self.seen.items():
            for stale in _written[gauge] - labels:
                gauge.remove(*stale)
            _written[gauge] = labels


async def refresh_gauges(pool: Pool) -> int:
    """Reads the per-tenant and platform figures and sets the gauges; returns the tenant count."""
    sql = load("ops")
    async with pool.connection() as conn:
        tenants = await (await conn.execute(sql["tenant_gauges"])).fetchall()
        platform = await (await conn.execute(sql["platform_gauges"])).fetchone()

    batch = _Batch()
    for row in tenants:
        tenant = (str(row["tenant_id"]),)
        batch.set(TENANT_INFO, (*tenant, str(row["tenant_name"])), 1)
        for queue, due, retrying, dead in (
            ("inbound", row["inbound_due"], row["inbound_retrying"], row["inbound_dead"]),
            ("messages", row["messages_due"], row["messages_retrying"], row["messages_dead"]),
        ):
            batch.set(QUEUE_DEPTH, (*tenant, queue), float(due))
            batch.set(RETRY_DEPTH, (*tenant, queue), float(retrying))
            batch.set(DEAD_LETTERS, (*tenant, queue), float(dead))
        batch.set(QUEUE_DEPTH, (*tenant, "syncs"), float(row["syncs_pending"]))
        batch.set(MESSAGE_FAILURE, tenant, _ratio(row["message_failure_rate"]))
        batch.set(MESSAGE_DELIVERY, tenant, _ratio(row["message_delivery_rate"]))
        for source in ("pms", "waha"):
            batch.set(WEBHOOK_FAILURE, (*tenant, source), _ratio(row[f"{source}_webhook_failure_rate"]))
            batch.set(WEBHOOKS_REFUSED, (*tenant, source), float(row[f"{source}_webhooks_refused"]))
        batch.set(MESSAGES_SENT, tenant, float(row["messages_sent"]))
        batch.set(WEBHOOKS_RECEIVED, tenant, float(row["webhooks_received"]))
        if row["waha_connected"] is not None:
            batch.set(WHATSAPP_CONNECTED, tenant, 1.0 if row["waha_connected"] else 0.0)
        batch.set(PMS_FAILING, tenant, float(row["pms_failing"]))
        batch.set(TENANT_ALERTS, tenant, float(row["open_alerts"]))
    batch.finish()

    if platform is not None:
        DB_CONNECTION_USAGE.set(float(platform["connection_usage"]))
        DB_CONNECTIONS.set(float(platform["connections_used"]))
        DB_LONGEST_QUERY.set(float(platform["longest_query_seconds"]))
        DENIED_CALLS.set(float(platform["denied_calls"]))
        RLS_REFUSED.set(_ratio(platform["rls_refused_writes"]))
        ALERTS_OPEN.labels("critical").set(float(platform["open_critical"]))
        ALERTS_OPEN.labels("warning").set(float(platform["open_warning"]))
    return len(tenants)
