"""What can go wrong when talking to WAHA, sorted by what the send loop must do about it.

- SessionUnavailable (WorkerError): WAHA says the session is not running (404) or not WORKING
  (422 "Session status is not as expected"), or WAHA cannot be reached (connection refused,
  connect timeout). Nothing was sent. Release the message without burning an attempt and pause
  the tenant until a session.status webhook says WORKING.
- WahaAuthError (ConfigurationError): 401 (key wrong or removed) or 403 (key not allowed for
  this session). Release, pause the tenant, surface it to the hotel.
- WahaConfigError (ConfigurationError): the setup is wrong - a 404 that is not about a session
  (base URL points elsewhere), a 422 refusal such as Core tier's "only 'default' session", or
  a success that is not WAHA's JSON. Release, pause, surface.
- WahaTransientError (TransientError): 5xx, read timeouts, dropped connections. Retry with
  backoff (the attempt counts); `maybe_delivered` is set when WAHA may have sent it anyway.
  WahaRateLimited (429) carries `retry_after` from Retry-After: retry no earlier.
- PermanentSendError: retrying cannot help, dead-letter now with the reason.
  InvalidNumber: not a phone number, or check-exists says it is not on WhatsApp.
  WahaRequestRejected: 400 and other 4xx, WAHA refuses the request as such (our bug).

`str(exc)` is written for hotel staff and on-call engineers (it ends up in
message_logs.last_error): the HTTP status, what it means, and what happens next. It never
contains the API key.

`pauses_tenant` and `retryable` let a loop act on attributes instead of classes; a loop that
dispatches on classes must test SessionUnavailable before `retryable` (it is retryable, but must
not burn an attempt).
"""

from __future__ import annotations

from worker.errors import ConfigurationError, TransientError, WorkerError


class WahaError(WorkerError):
    """Root of the WAHA client's errors."""

    # The tenant's sends must stop until an operator or a session.status webhook lifts it.
    pauses_tenant: bool = False

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        Exception.__init__(self, message)
        self.status = status
        self.retry_after = retry_after


class SessionUnavailable(WahaError):
    """The tenant's WhatsApp session cannot send now; nothing was sent."""

    retryable = True
    pauses_tenant = True

    def __init__(self, message: str, *, status: int | None = None, session_status: str | None = None) -> None:
        super().__init__(message, status=status)
        # WAHA's status of the session when it said so (SCAN_QR_CODE, FAILED, ...), or None when
        # the session is not running at all or WAHA could not be reached.
        self.session_status = session_status


class WahaAuthError(WahaError, ConfigurationError):
    """WAHA refused the API key (401) or the key may not use this session (403)."""

    pauses_tenant = True


class WahaConfigError(WahaError, ConfigurationError):
    """WAHA answered in a way that means the tenant's WAHA setup is wrong."""

    pauses_tenant = True


class WahaTransientError(WahaError, TransientError):
    """A passing failure; `maybe_delivered` says whether WAHA may have sent the message anyway
    (the request reached it but no answer came back), which a retry could duplicate."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        maybe_delivered: bool = False,
    ) -> None:
        super().__init__(message, status=status, retry_after=retry_after)
        self.maybe_delivered = maybe_delivered


class WahaRateLimited(WahaTransientError):
    """429: WAHA (or the proxy in front of it) asks us to slow down."""


class PermanentSendError(WahaError):
    """Retrying cannot help: the message is dead-lettered with this reason."""

    retryable = False


class InvalidNumber(PermanentSendError):
    """The guest's phone number is not a WhatsApp number."""


class WahaRequestRejected(PermanentSendError):
    """WAHA refused the request itself (400 and the like): a bug on our side, not the guest's."""
