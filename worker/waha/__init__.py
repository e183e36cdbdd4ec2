"""WhatsApp through WAHA: the HTTP client, what its answers mean, and per-session send pacing.

client = WahaClient(http)                      # the worker's one httpx.AsyncClient
slot = await pacer.acquire(session_key, policy)  # wait for this session's next free slot
sent = await client.send_text(target, "+4915112345678", "Welcome!", key=message_key(seed))
# sent.message_id -> message_logs.waha_message_id; errors: worker/waha/errors.py
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

__all__ = [
    "InvalidNumber",
    "PermanentSendError",
    "SentText",
    "SessionState",
    "SessionUnavailable",
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
