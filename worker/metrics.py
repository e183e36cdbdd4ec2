"""Prometheus metrics of the worker, served on /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_PROCESSED = Counter(
    "worker_events_processed",
    "Inbound events finished, by source and outcome (succeeded, ignored)",
    ["source", "outcome"],
    registry=REGISTRY,
)
EVENTS_FAILED = Counter(
    "worker_events_failed",
    "Inbound event failures, by source and what happened next (retry, dead)",
    ["source", "next"],
    registry=REGISTRY,
)
MESSAGES_SENT = Counter("worker_messages_sent", "Messages WAHA accepted", registry=REGISTRY)
MESSAGES_FAILED = Counter(
    "worker_messages_failed",
    "Message send failures, by reason (retryable, invalid_number, session_unavailable, auth, dead, ...)",
    ["reason"],
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge("worker_queue_depth", "Rows due now, by queue", ["queue"], registry=REGISTRY)
RETRY_DEPTH = Gauge("worker_retry_queue_depth", "Rows waiting for a retry, by queue", ["queue"], registry=REGISTRY)
DEAD_LETTERS = Gauge("worker_dead_letters", "Dead-lettered rows, by queue", ["queue"], registry=REGISTRY)
CLAIM_LATENCY = Histogram(
    "worker_claim_latency_seconds",
    "Time one claim query takes, by queue",
    ["queue"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
WAHA_LATENCY = Histogram(
    "worker_waha_request_seconds",
    "Duration of WAHA sendText calls",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
SYNC_DURATION = Histogram(
    "worker_sync_duration_seconds",
    "Duration of PMS sync jobs, by kind and outcome",
    ["kind", "outcome"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600),
    registry=REGISTRY,
)
WAKEUPS = Counter(
    "worker_wakeups", "Wake-ups received, by source and channel", ["source", "channel"], registry=REGISTRY
)
MESSAGES_TAKEN_OVER = Counter(
    "worker_messages_taken_over",
    "Sends of dead workers (or expired leases) this worker's liveness probe took back",
    registry=REGISTRY,
)
SENDS_SETTLED_WITH_WAHA = Counter(
    "worker_sends_settled_with_waha",
    "Messages cut off mid-send, checked with WAHA before sending again, by what WAHA said"
    " (already_sent: recorded without sending; not_sent: sent now; cannot_tell: sent now, may be a duplicate)",
    ["answer"],
    registry=REGISTRY,
)
POSSIBLE_DUPLICATES = Counter(
    "worker_possible_duplicate_sends",
    "Messages sent again after a crash although WAHA could not say whether the first attempt got"
    " through (NOWEB without its store, GOWS without message storage): at most one duplicate each",
    registry=REGISTRY,
)
