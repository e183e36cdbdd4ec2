"""The e-mails the local Auth sends: recorded in devstack.mail, where Supabase's local stack would
show them in its mail catcher (Inbucket/Mailpit). Tests and people read the links there."""

from __future__ import annotations

from typing import Any

import psycopg

SUBJECTS = {
    "invite": "You have been invited",
    "recovery": "Reset Your Password",
    "signup": "Confirm Your Signup",
}


async def send(conn: psycopg.AsyncConnection[Any], recipient: str, kind: str, link: str, otp: str) -> None:
    body = f"Follow this link: {link}\nOr use this code: {otp}\n"
    await conn.execute(
        "insert into devstack.mail (recipient, kind, subject, link, body) values (%s, %s, %s, %s, %s)",
        (recipient, kind, SUBJECTS[kind], link, body),
    )
