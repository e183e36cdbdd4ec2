"""WhatsApp through WAHA: the HTTP client and what its answers mean.

client = WahaClient(session)  # the worker's aiohttp.ClientSession for WAHA (worker/http.py)
sent = await client.send_text(target, "+4915112345678", "Welcome!", key=message_key(seed))
# sent.message_id -> message_logs.waha_message_id; failures: worker/waha/errors.py

Per-session pacing is not here: it lives in SQL (claim_messages_v2), so it holds across replicas.
"""

from worker.waha.client import (
    OwnMessage,
    SentHistory,
    SentLookup,
    SentText,
    SessionState,
    WahaClient,
    WahaTarget,
    chat_id_for,
    message_key,
)
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
    "OwnMessage",
    "PermanentSendError",
    "SentHistory",
    "SentLookup",
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
