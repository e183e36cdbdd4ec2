"""WhatsApp through WAHA: the HTTP client, what its answers mean, and per-session send pacing.

Usage in a send loop:

client = WahaClient(http)  # the worker's one httpx.AsyncClient
pacer = Pacer()  # one per process
policy = PacingPolicy.from_config(config.send_gap_min_ms, config.send_gap_max_ms)
if await pacer.acquire(session_key, policy, max_wait=30) is not None:
    sent = await client.send_text(target, "+4915112345678", "Welcome!", key=message_key(seed))
    # sent.message_id -> message_logs.waha_message_id; failures: worker/waha/errors.py
"""

from worker.waha.client import SentText, SessionState, WahaClient, WahaTarget, chat_id_for, message_key
from worker.waha.errors import (
    InvalidNumber,
    PermanentSendError,
    SessionUnavailable,
    WahaAuthError,
    WahaConfigError,
    WahaError,
    WahaRateLimited,
    WahaRequestRejected,
    WahaTransientError,
)
from worker.waha.pacing import Clock, ManualClock, Pacer, PacingPolicy, Slot, SystemClock

__all__ = [
    "Clock",
    "InvalidNumber",
    "ManualClock",
    "Pacer",
    "PacingPolicy",
    "PermanentSendError",
    "SentText",
    "SessionState",
    "SessionUnavailable",
    "Slot",
    "SystemClock",
    "WahaAuthError",
    "WahaClient",
    "WahaConfigError",
    "WahaError",
    "WahaRateLimited",
    "WahaRequestRejected",
    "WahaTarget",
    "WahaTransientError",
    "chat_id_for",
    "message_key",
]
