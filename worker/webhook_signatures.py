"""Signing and verifying webhooks the way the edge functions do, for Python callers.

The PMS and WAHA simulators sign what they post with these functions, and tests use them to
build genuine deliveries. Both this module and supabase/functions/_shared are checked against the
same vectors in shared/vectors/, so a delivery one side signs the other side accepts.

Two schemes:
- Standard Webhooks (generic provider, Guesty through Svix): `webhook-id`, `webhook-timestamp`,
  `webhook-signature: v1,<base64>` (or the same headers prefixed `svix-`), HMAC-SHA256 keyed with
  the base64-decoded `whsec_` secret over `id.timestamp.body`, 5 minutes of tolerance either way.
- WAHA: `X-Webhook-Hmac` = hex HMAC-SHA512 of the raw body keyed with the session's hmac.key.

All comparisons are constant-time and over bytes: a signature is decoded first, never compared
as text.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

STANDARD_WEBHOOKS_TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


class Failure(StrEnum):
    """Why a delivery was refused (the HTTP answer is the same 401 for each)."""

    HEADERS = "headers"
    TIMESTAMP = "timestamp"
    SIGNATURE = "signature"


@dataclass(frozen=True)
class Verification:
    ok: bool
    failure: Failure | None = None
    webhook_id: str | None = None
    timestamp: int | None = None


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret (`whsec_<base64>`, the prefix optional)."""
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error as exc:
        raise ValueError("a Standard Webhooks secret is base64, optionally prefixed with whsec_") from exc


def _signed_content(webhook_id: str, timestamp: int | str, body: bytes) -> bytes:
    return f"{webhook_id}.{timestamp}.".encode() + body


def sign_standard_webhook(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value (`v1,<base64>`) for one secret."""
    digest = hmac.new(decode_secret(secret), _signed_content(webhook_id, timestamp, body), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def standard_webhook_headers(
    secrets: str | Sequence[str],
    webhook_id: str,
    body: bytes,
    timestamp: int | None = None,
    prefix: str = "webhook",
) -> dict[str, str]:
    """Headers of a signed delivery; several secrets give several space-separated signatures."""
    ts = int(time.time()) if timestamp is None else timestamp
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    signature = " ".join(sign_standard_webhook(s, webhook_id, ts, body) for s in keys)
    return {f"{prefix}-id": webhook_id, f"{prefix}-timestamp": str(ts), f"{prefix}-signature": signature}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    return lowered.get(name)


def verify_standard_webhook(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    now: float | None = None,
    tolerance_seconds: int = STANDARD_WEBHOOKS_TOLERANCE_SECONDS,
) -> Verification:
    """Checks a delivery against every active secret (two during a rotation)."""
    prefix = "webhook" if _header(headers, "webhook-id") is not None else "svix"
    webhook_id = _header(headers, f"{prefix}-id")
    raw_timestamp = _header(headers, f"{prefix}-timestamp")
    signature_header = _header(headers, f"{prefix}-signature")
    if not webhook_id or raw_timestamp is None or signature_header is None:
        return Verification(False, Failure.HEADERS)
    if not raw_timestamp.isascii() or not raw_timestamp.isdigit() or len(raw_timestamp) > 15:
        return Verification(False, Failure.TIMESTAMP)
    timestamp = int(raw_timestamp)
    current = time.time() if now is None else now
    if current - timestamp > tolerance_seconds or timestamp - current > tolerance_seconds:
        return Verification(False, Failure.TIMESTAMP)

    candidates: list[bytes] = []
    for part in signature_header.split():
        version, _, encoded = part.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            candidates.append(base64.b64decode(encoded, validate=True))
        except binascii.Error:
            continue
    content = _signed_content(webhook_id, raw_timestamp, body)
    for secret in secrets:
        try:
            key = decode_secret(secret)
        except ValueError:
            continue
        expected = hmac.new(key, content, hashlib.sha256).digest()
        if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
            return Verification(True, webhook_id=webhook_id, timestamp=timestamp)
    return Verification(False, Failure.SIGNATURE)


def sign_waha(key: str, body: bytes) -> str:
    """The `X-Webhook-Hmac` value WAHA sends for `body`."""
    return hmac.new(key.encode(), body, hashlib.sha512).hexdigest()


def waha_headers(key: str, body: bytes) -> dict[str, str]:
    return {"X-Webhook-Hmac": sign_waha(key, body), "X-Webhook-Hmac-Algorithm": "sha512"}


def verify_waha(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> Verification:
    """Checks WAHA's HMAC against every active key of the session."""
    given = _header(headers, "x-webhook-hmac")
    algorithm = _header(headers, "x-webhook-hmac-algorithm")
    if given is None:
        return Verification(False, Failure.HEADERS)
    if algorithm is not None and algorithm.strip().lower() != "sha512":
        return Verification(False, Failure.SIGNATURE)
    try:
        candidate = bytes.fromhex(given.strip())
    except ValueError:
        return Verification(False, Failure.SIGNATURE)
    for key in secrets:
        expected = hmac.new(key.encode(), body, hashlib.sha512).digest()
        if hmac.compare_digest(expected, candidate):
            return Verification(True)
    return Verification(False, Failure.SIGNATURE)
