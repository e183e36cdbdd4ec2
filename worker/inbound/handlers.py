"""What each kind of stored event does. A handler returns the outcome to record (`succeeded` or
`ignored`) or raises a WorkerError subclass saying whether a retry can help."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from loguru import logger

from worker.errors import ConfigurationError, PayloadError, TransientError
from worker.inbound import chat_messages
from worker.inbound.language import detect_language
from worker.inbound.stopwords import is_start_request, is_stop_request
from worker.inbound.store import ClaimedEvent, InboundStore
from worker.pms.base import Fetch, Ignore, InboundEvent, Upsert
from worker.pms.registry import adapter_for

Outcome = Literal["succeeded", "ignored"]

WAHA_SESSION_STATUSES = {"STOPPED", "STARTING", "SCAN_QR_CODE", "WORKING", "FAILED"}


async def handle(store: InboundStore, event: ClaimedEvent) -> Outcome:
    if event.source == "pms":
        return await handle_pms(store, event)
    if event.source == "waha":
        return await handle_waha(store, event)
    logger.info("no handler for {source} event {type}", source=event.source, type=event.event_type)
    return "ignored"


async def handle_pms(store: InboundStore, event: ClaimedEvent) -> Outcome:
    try:
        adapter = adapter_for(event.provider)
    except KeyError:
        raise PayloadError(f"no adapter for PMS provider {event.provider!r}") from None
    actions = adapter.parse_event(
        InboundEvent(
            id=event.id,
            tenant_id=event.tenant_id,
            provider=event.provider,
            event_id=event.event_id,
            event_type=event.event_type,
            payload=event.payload,
            request_id=event.request_id,
        )
    )
    did_something = False
    for action in actions:
        if isinstance(action, Upsert):
            reservation_id, outcome = await store.upsert_reservation(
                event.tenant_id, action.reservation, event.request_id
            )
            with logger.contextualize(reservationId=reservation_id):
                logger.info("reservation {outcome}", outcome=outcome)
            did_something = True
        elif isinstance(action, Fetch):
            config = await store.pms_configuration_for(event.tenant_id, event.provider)
            if config is None:
                raise ConfigurationError(f"tenant has no {event.provider} PMS configuration")
            job_id = await store.enqueue_reservation_sync(config, action.pms_reservation_id, event.request_id)
            with logger.contextualize(jobId=job_id):
                logger.info("reservation {pms_id} to be fetched", pms_id=action.pms_reservation_id)
            did_something = True
        elif isinstance(action, Ignore):
            logger.info("event ignored: {reason}", reason=action.reason)
    return "succeeded" if did_something else "ignored"


def _waha_body(event: ClaimedEvent) -> dict[str, Any]:
    body = event.payload.get("payload")
    if not isinstance(body, dict):
        raise PayloadError(f"WAHA {event.event_type} event has no payload object")
    return body


async def handle_waha(store: InboundStore, event: ClaimedEvent) -> Outcome:
    if event.event_type == "message.ack":
        return await _message_ack(store, event)
    if event.event_type == "session.status":
        return await _session_status(store, event)
    if event.event_type in ("message", "message.any"):
        return await _guest_message(store, event)
    logger.info("WAHA event {type} is not used", type=event.event_type)
    return "ignored"


def waha_id_candidates(message_id: str) -> list[str]:
    """WAHA names a message `<fromMe>_<chatId>_<id>` in acks; some engines answer sendText with the
    bare `<id>`. The stored id is whichever sendText gave, so both forms are tried."""
    candidates = [message_id]
    parts = message_id.split("_")
    if len(parts) >= 3 and parts[0] in ("true", "false"):
        candidates.append(parts[-1])
    return candidates


async def _message_ack(store: InboundStore, event: ClaimedEvent) -> Outcome:
    body = _waha_body(event)
    message_id, ack = body.get("id"), body.get("ack")
    if not isinstance(message_id, str) or not isinstance(ack, int):
        raise PayloadError("message.ack needs payload.id (string) and payload.ack (integer)")
    if body.get("fromMe") is False:
        return "ignored"  # acks of messages the guest sent us
    for candidate in waha_id_candidates(message_id):
        status = await store.record_message_ack(event.tenant_id, candidate, ack)
        if status is not None:
            logger.info("message {id} is {status} (ack {ack})", id=candidate, status=status, ack=ack)
            return "succeeded"
    # WAHA can report an ack before our send transaction recorded its id: try again shortly.
    raise TransientError(f"no message with WAHA id {message_id} (yet)")


async def _session_status(store: InboundStore, event: ClaimedEvent) -> Outcome:
    body = _waha_body(event)
    status = body.get("status")
    session = event.payload.get("session") or body.get("name")
    if status not in WAHA_SESSION_STATUSES or not isinstance(session, str):
        raise PayloadError(f"session.status with unknown status {status!r} or session {session!r}")
    reported_at = _reported_at(event)
    applied = await store.set_session_status(event.tenant_id, session, status, reported_at)
    if applied:
        logger.info("WhatsApp session {session} is {status}", session=session, status=status)
    else:
        logger.info("older session status {status} ignored", status=status)
    return "succeeded" if applied else "ignored"


def _reported_at(event: ClaimedEvent) -> dt.datetime:
    """When WAHA says the event happened (`timestamp`, ms since the epoch)."""
    stamp = event.payload.get("timestamp")
    if not isinstance(stamp, int | float) or isinstance(stamp, bool):
        raise PayloadError("session.status needs the event's timestamp (ms since the epoch)")
    return dt.datetime.fromtimestamp(stamp / 1000, dt.UTC)


async def _guest_message(store: InboundStore, event: ClaimedEvent) -> Outcome:
    """A message of a chat: into the guest's conversation, once (`message` and `message.any`
    both bring a guest's message; a retry or a replay brings it again)."""
    body = _waha_body(event)
    session = event.payload.get("session")
    if not isinstance(session, str) or not session:
        raise PayloadError("a WAHA message event needs its session")
    if body.get("fromMe") is True and body.get("source") == "api":
        # Sent through WAHA's API, i.e. by us: the thread has it from message_logs already.
        return "ignored"
    parsed = chat_messages.parse(body)
    if isinstance(parsed, chat_messages.NotAGuestChat):
        logger.info("message ignored: {reason}", reason=parsed.reason)
        return "ignored"
    consent: str | None = None
    language: str | None = None
    if not parsed.from_me:
        consent = "stop" if is_stop_request(parsed.body) else "start" if is_start_request(parsed.body) else None
        language = None if consent else detect_language(parsed.body)
    result = await store.record_conversation_message(
        event.tenant_id, session, parsed, language=language, consent=consent
    )
    if result.outcome == "pending_send":
        # WAHA echoes our send before the worker has recorded its id: it is probably ours.
        raise TransientError(f"message {parsed.waha_message_id} may be one of our sends not recorded yet")
    with logger.contextualize(conversationId=result.conversation_id):
        logger.info(
            "conversation message {outcome}{consent}",
            outcome=result.outcome,
            consent=f" ({result.consent_change})" if result.consent_change else "",
        )
    return "succeeded" if result.outcome in ("stored", "ours") else "ignored"
