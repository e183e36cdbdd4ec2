"""Writes the signature test vectors in this folder (run: python3 shared/vectors/generate.py).

Both implementations (supabase/functions/_shared and worker/webhook_signatures.py) are tested
against these files, so they cannot drift apart. The derived cases are computed here with the
standard library alone, and the script refuses to write anything unless it first reproduces the
published anchors: the Standard Webhooks specification's own example and RFC 4231's HMAC-SHA-512
test case 2.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# Standard Webhooks / Svix published example (the same values appear in every official library).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105 (a published test vector)
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = '{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

# RFC 4231, test case 2.
RFC4231_KEY = "Jefe"
RFC4231_DATA = "what do ya want for nothing?"
RFC4231_SHA512 = (
    "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fd"
    "caeab1a34d4a6b4b636e070a38bce737"
)

ROTATED_OUT_SECRET = "whsec_" + base64.b64encode(b"the-previous-secret-of-this-hotel").decode()
OTHER_TENANT_SECRET = "whsec_" + base64.b64encode(b"a-secret-that-belongs-to-another-hotel").decode()


def sw_sign(secret: str, msg_id: str, timestamp: int | str, body: str) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{msg_id}.{timestamp}.".encode() + body.encode()
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def waha_sign(key: str, body: str) -> str:
    return hmac.new(key.encode(), body.encode(), hashlib.sha512).hexdigest()


def headers(msg_id: str, timestamp: int | str, signature: str, prefix: str = "webhook") -> dict[str, str]:
    return {f"{prefix}-id": msg_id, f"{prefix}-timestamp": str(timestamp), f"{prefix}-signature": signature}


def standard_webhooks() -> dict[str, Any]:
    if sw_sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) != SPEC_SIGNATURE:
        raise SystemExit("does not reproduce the Standard Webhooks specification example")
    ts = SPEC_TIMESTAMP
    good = SPEC_SIGNATURE
    unicode_body = '{"type":"reservation.created","data":{"guest":{"full_name":"Zoë Ærøskøbing 🏨"}}}'
    unicode_sig = sw_sign(SPEC_SECRET, "msg_unicode", ts, unicode_body)
    old_sig = sw_sign(ROTATED_OUT_SECRET, SPEC_ID, ts, SPEC_BODY)
    bogus = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
    v = SPEC_SECRET
    cases: list[dict[str, Any]] = [
        {
            "name": "specification example",
            "secrets": [v],
            "headers": headers(SPEC_ID, ts, good),
            "body": SPEC_BODY,
            "now": ts,
            "valid": True,
        },
        {
            "name": "secret without the whsec_ prefix",
            "secrets": [v.removeprefix("whsec_")],
            "headers": headers(SPEC_ID, ts, good),
            "body": SPEC_BODY,
            "now": ts,
            "valid": True,
        },
        {
            "name": "svix-* headers (Guesty)",
            "secrets": [v],
            "headers": headers(SPEC_ID, ts, good, "svix"),
            "body": SPEC_BODY,
            "now": ts,
            "valid": True,
        },
        {
            "name": "several signatures, one valid",
            "secrets": [v],
            "headers": headers(SPEC_ID, ts, " ".join([bogus, "v2," + good[3:], good, bogus])),
            "body": SPEC_BODY,
            "now": ts,
            "valid": True,
        },
        {
            "name": "multi-byte UTF-8 body",
            "secrets": [v],
            "headers": headers("msg_unicode", ts, unicode_sig),
            "body": unicode_body,
            "now": ts,
            "valid": True,
        },
        {
            "name": "tampered body",
            "secrets": [v],
            "headers": headers(SPEC_ID, ts, good),
            "body": '{"test": 2432232315}',
            "now": ts,
            "valid": False,
            "reason": "signature",
        },
        {
            "name": "body with a trailing newline",
            "secrets": [v],
            "headers": headers(SPEC_ID, ts, good),
            "body": SPEC_BODY + "\n",
            "now": ts,
            "valid": False,
            "reason": "signature",
        },
        {
            "name": "other message id",
            "secrets": [v],
            "headers": headers("msg_other", ts, good),
            "body": SPEC_BODY,
            "now": ts,
            "valid": False,
            "reason": "signature",
        },
        {
            "name": "timestamp changed after signing",
            "secrets": [v],
            "headers": headers(SPEC_ID, ts + 1, good),
            "body": SPEC_BODY,
            "now": ts,
            "valid": False,
            "reason": "signature",
        },
        {
            "name": "wrong secret",
            "secrets": [OTHER_TENANT_SECRET],
            "headers": headers(SPEC_ID, ts, good),
            "body": SPEC_BODY,
            "now": ts,
            "valid": False,
            "reason": "signature",
        },
        {
            "name": "signed with the previous secret during a rotation",
            "secrets": [v, ROTATED_OUT_SECRET],
            "headers": headers(SPEC_ID, ts, old_sig),
            "body": SPEC_BODY,
            "now": ts,
            "valid": True,
        },
        {
            "name": "signed with a secret rotated out",
            "secrets": [v],
            "headers": headers(SPEC_ID, ts, old_sig),
            "body": SPEC_BODY,
            "now": ts,
            "valid": False,
            "reason": "signature",
        },
        {
            "name": "no active secret",
            "secrets": [],
            "headers": headers(SPEC_ID, ts, good),
            "body": SPEC_BODY,
            "now": ts,
            "valid": False,
            "reason": "signature",
        },
        {
            "name": "only an unknown signature version",
            "secrets": [v],
            "headers": headers(SPEC_ID, ts, "v1a," + good[3:]),
            "body": SPEC_BODY,
            "now": ts,
            "valid": False,
            "reason": "signature",
        },
        {
            "name": "empty v1 signature",
            "secrets": [v],
            "headers": headers(SPEC_ID, ts, "v1,"),
            "body": SPEC_BODY,
            "now": ts,
            "valid": False,
            "reason": "signature",
        },
        {
            "name": "truncated signature",
            "secrets": [v],
            "headers": headers(SPEC_ID, ts, good[:8]),
            "body": SPEC_BODY,
            "now": ts,
            "valid": False,
            "reason": "signature",
        },
        {
            "name": "signature that is not base64",
            "secrets": [v],
            "headers": headers(SPEC_ID, ts, "v1,dawfeoifkpqwoekfpqoekf"),
            "body": SPEC_BODY,
            "now": ts,
            "valid": False,
            "reason": "signature",
        },
        {
            "name": "exactly five minutes old",
            "secrets": [v],
            "headers": headers(SPEC_ID, ts, good),
            "body": SPEC_BODY,
            "now": ts + 300,
            "valid": True,
        },
        {
            "name": "replayed after five minutes",
            "secrets": [v],
            "headers": headers(SPEC_ID, ts, good),
            "body": SPEC_BODY,
            "now": ts + 301,
            "valid": False,
            "reason": "timestamp",
        },
        {
            "name": "exactly five minutes in the future",
            "secrets": [v],
            "headers": headers(SPEC_ID, ts, good),
            "body": SPEC_BODY,
            "now": ts - 300,
            "valid": True,
        },
        {
            "name": "more than five minutes in the future",
            "secrets": [v],
            "headers": headers(SPEC_ID, ts, good),
            "body": SPEC_BODY,
            "now": ts - 301,
            "valid": False,
            "reason": "timestamp",
        },
        {
            "name": "timestamp that is not a number",
            "secrets": [v],
            "headers": headers(SPEC_ID, "hello", good),
            "body": SPEC_BODY,
            "now": ts,
            "valid": False,
            "reason": "timestamp",
        },
        {
            "name": "timestamp in milliseconds",
            "secrets": [v],
            "headers": headers(SPEC_ID, ts * 1000, sw_sign(v, SPEC_ID, ts * 1000, SPEC_BODY)),
            "body": SPEC_BODY,
            "now": ts,
            "valid": False,
            "reason": "timestamp",
        },
        {
            "name": "missing id header",
            "secrets": [v],
            "headers": {"webhook-timestamp": str(ts), "webhook-signature": good},
            "body": SPEC_BODY,
            "now": ts,
            "valid": False,
            "reason": "headers",
        },
        {
            "name": "missing timestamp header",
            "secrets": [v],
            "headers": {"webhook-id": SPEC_ID, "webhook-signature": good},
            "body": SPEC_BODY,
            "now": ts,
            "valid": False,
            "reason": "headers",
        },
        {
            "name": "missing signature header",
            "secrets": [v],
            "headers": {"webhook-id": SPEC_ID, "webhook-timestamp": str(ts)},
            "body": SPEC_BODY,
            "now": ts,
            "valid": False,
            "reason": "headers",
        },
    ]
    return {
        "description": (
            "Standard Webhooks (https://www.standardwebhooks.com/) verification cases. Signature = "
            "'v1,' + base64(HMAC-SHA256(base64decode(secret without 'whsec_'), id + '.' + timestamp + '.' + body)); "
            "timestamps more than tolerance_seconds away from now (either way) are refused. `body` is the "
            "exact UTF-8 text that was signed; `reason` says why an invalid case fails: 'headers' (a header is "
            "missing), 'timestamp' (not a number of seconds, or outside the tolerance) or 'signature'. "
            "Generated by generate.py, anchored on the specification's own example."
        ),
        "tolerance_seconds": 300,
        "sign": [
            {
                "name": "specification example",
                "secret": SPEC_SECRET,
                "id": SPEC_ID,
                "timestamp": SPEC_TIMESTAMP,
                "body": SPEC_BODY,
                "signature": SPEC_SIGNATURE,
            },
            {
                "name": "multi-byte UTF-8 body",
                "secret": SPEC_SECRET,
                "id": "msg_unicode",
                "timestamp": ts,
                "body": unicode_body,
                "signature": unicode_sig,
            },
        ],
        "verify": cases,
    }


def waha_hmac() -> dict[str, Any]:
    if waha_sign(RFC4231_KEY, RFC4231_DATA) != RFC4231_SHA512:
        raise SystemExit("does not reproduce RFC 4231 test case 2")
    key = "4f0c4e1c7a9b2d3e5f60718293a4b5c6d7e8f9011223344556677889900aabbcc"
    body = json.dumps(
        json.loads((HERE.parent / "samples" / "webhooks" / "waha" / "message-ack.json").read_text()),
        separators=(",", ":"),
        ensure_ascii=False,
    )
    good = waha_sign(key, body)
    unicode_body = '{"event":"message","payload":{"body":"Grüße aus Köln 👋"}}'
    cases: list[dict[str, Any]] = [
        {
            "name": "RFC 4231 test case 2",
            "secrets": [RFC4231_KEY],
            "hmac": RFC4231_SHA512,
            "algorithm": "sha512",
            "body": RFC4231_DATA,
            "valid": True,
        },
        {
            "name": "WAHA message.ack delivery",
            "secrets": [key],
            "hmac": good,
            "algorithm": "sha512",
            "body": body,
            "valid": True,
        },
        {
            "name": "upper-case hex",
            "secrets": [key],
            "hmac": good.upper(),
            "algorithm": "sha512",
            "body": body,
            "valid": True,
        },
        {
            "name": "no algorithm header (WAHA's default is sha512)",
            "secrets": [key],
            "hmac": good,
            "algorithm": None,
            "body": body,
            "valid": True,
        },
        {
            "name": "multi-byte UTF-8 body",
            "secrets": [key],
            "hmac": waha_sign(key, unicode_body),
            "algorithm": "sha512",
            "body": unicode_body,
            "valid": True,
        },
        {
            "name": "signed with the previous key during a rotation",
            "secrets": ["a-newer-key-0001", key],
            "hmac": good,
            "algorithm": "sha512",
            "body": body,
            "valid": True,
        },
        {
            "name": "key rotated out",
            "secrets": ["a-newer-key-0001"],
            "hmac": good,
            "algorithm": "sha512",
            "body": body,
            "valid": False,
        },
        {
            "name": "tampered body",
            "secrets": [key],
            "hmac": good,
            "algorithm": "sha512",
            "body": body.replace('"ack":3', '"ack":4'),
            "valid": False,
        },
        {
            "name": "wrong key",
            "secrets": ["not-the-key-of-this-session"],
            "hmac": good,
            "algorithm": "sha512",
            "body": body,
            "valid": False,
        },
        {
            "name": "HMAC-SHA256 instead",
            "secrets": [key],
            "hmac": hmac.new(key.encode(), body.encode(), hashlib.sha256).hexdigest(),
            "algorithm": "sha256",
            "body": body,
            "valid": False,
        },
        {
            "name": "truncated hex",
            "secrets": [key],
            "hmac": good[:64],
            "algorithm": "sha512",
            "body": body,
            "valid": False,
        },
        {"name": "not hex", "secrets": [key], "hmac": "z" * 128, "algorithm": "sha512", "body": body, "valid": False},
        {"name": "missing header", "secrets": [key], "hmac": None, "algorithm": "sha512", "body": body, "valid": False},
        {"name": "no active key", "secrets": [], "hmac": good, "algorithm": "sha512", "body": body, "valid": False},
    ]
    return {
        "description": (
            "WAHA webhook HMAC cases: X-Webhook-Hmac is the hex HMAC-SHA512 of the raw body, keyed with the "
            "UTF-8 bytes of the session's hmac.key; X-Webhook-Hmac-Algorithm is 'sha512' (null: header absent). "
            "Generated by generate.py, anchored on RFC 4231 test case 2."
        ),
        "verify": cases,
    }


def main() -> None:
    for name, content in (("standard-webhooks.json", standard_webhooks()), ("waha-hmac.json", waha_hmac())):
        (HERE / name).write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
