"""The Python signer/verifier against the shared vectors the edge functions are tested with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from worker.webhook_signatures import (
    Failure,
    sign_standard_webhook,
    sign_waha,
    standard_webhook_headers,
    verify_standard_webhook,
    verify_waha,
    waha_headers,
)

VECTORS = Path(__file__).resolve().parent.parent / "shared" / "vectors"
STANDARD = json.loads((VECTORS / "standard-webhooks.json").read_text(encoding="utf-8"))
WAHA = json.loads((VECTORS / "waha-hmac.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", STANDARD["sign"], ids=lambda c: c["name"])
def test_standard_webhooks_signatures_match_the_vectors(case: dict[str, Any]) -> None:
    signature = sign_standard_webhook(case["secret"], case["id"], case["timestamp"], case["body"].encode())
    assert signature == case["signature"]


@pytest.mark.parametrize("case", STANDARD["verify"], ids=lambda c: c["name"])
def test_standard_webhooks_verification_matches_the_vectors(case: dict[str, Any]) -> None:
    result = verify_standard_webhook(case["headers"], case["body"].encode(), case["secrets"], now=case["now"])
    assert result.ok is case["valid"]
    if not case["valid"]:
        assert result.failure == Failure(case["reason"])


@pytest.mark.parametrize("case", WAHA["verify"], ids=lambda c: c["name"])
def test_waha_hmac_verification_matches_the_vectors(case: dict[str, Any]) -> None:
    headers = {}
    if case["hmac"] is not None:
        headers["X-Webhook-Hmac"] = case["hmac"]
    if case["algorithm"] is not None:
        headers["X-Webhook-Hmac-Algorithm"] = case["algorithm"]
    assert verify_waha(headers, case["body"].encode(), case["secrets"]).ok is case["valid"]


def test_a_delivery_signed_with_two_secrets_verifies_with_either() -> None:
    rotation = next(c for c in STANDARD["verify"] if c["name"].startswith("signed with the previous secret"))
    new, old = rotation["secrets"]
    body = b'{"type":"reservation.updated"}'
    headers = standard_webhook_headers([new, old], "msg_rotation", body, timestamp=1_700_000_000)
    assert len(headers["webhook-signature"].split()) == 2
    assert verify_standard_webhook(headers, body, [old], now=1_700_000_000).ok
    assert verify_standard_webhook(headers, body, [new], now=1_700_000_000).ok


def test_waha_headers_round_trip() -> None:
    body = json.dumps({"event": "message.ack", "payload": {"ack": 3}}).encode()
    headers = waha_headers("session-key-123456", body)
    assert headers["X-Webhook-Hmac"] == sign_waha("session-key-123456", body)
    assert verify_waha(headers, body, ["session-key-123456"]).ok
    assert not verify_waha(headers, body + b" ", ["session-key-123456"]).ok


def test_a_secret_that_is_not_base64_is_refused_when_signing() -> None:
    with pytest.raises(ValueError, match="base64"):
        sign_standard_webhook("whsec_not base64!", "msg_1", 1, b"{}")
