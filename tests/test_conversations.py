"""Guest conversations (issue 15): WAHA's message webhooks into threads, once; what is no guest's
message left out; media described; opt-out and opt-in by message; staff replies through the one
queue with their role and opt-out rules; per-member unread counts; tenant isolation."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from realtime import AsyncRealtimeClient, RealtimePostgresChangesListenEvent

from devstack.simulators.realtime import RealtimeSimulator
from tests.factories import Factory, Tenant
from tests.test_realtime_signed_in import eventually, user_token
from tests.test_worker_inbound import event_states, ingest, waha_event
from worker.db.pool import Pool
from worker.inbound.language import detect_language
from worker.inbound.processor import InboundProcessor
from worker.inbound.stopwords import is_start_request
from worker.inbound.store import InboundStore

Conn = psycopg.Connection[Any]
GUEST_PHONE = "+4915112345678"
GUEST_CHAT = "4915112345678@c.us"


@pytest.fixture
def processor(pool: Pool) -> InboundProcessor:
    return InboundProcessor(
        InboundStore(pool),
        "test-worker",
        batch_size=50,
        lease_seconds=60,
        retry_base=dt.timedelta(seconds=1),
        retry_max=dt.timedelta(seconds=5),
    )


def as_user(db: Conn, user: uuid.UUID | None, sql: str, params: Any = None) -> list[dict[str, Any]]:
    """One statement as PostgREST runs it for this user, committed."""
    role = "anon" if user is None else "authenticated"
    claims = {"role": role} if user is None else {"sub": str(user), "role": role}
    with psycopg.connect(db.info.dsn, row_factory=dict_row) as conn, conn.transaction():
        conn.execute(f"set local role {role}")
        conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def refusal(db: Conn, user: uuid.UUID | None, sql: str, params: Any = None) -> tuple[str, str, str | None]:
    with pytest.raises(psycopg.errors.Error) as caught:
        as_user(db, user, sql, params)
    exc = caught.value
    return str(exc.sqlstate), exc.diag.message_primary or "", exc.diag.message_hint


def guest_message(text: str | None = None, key: str | None = None, **extra: Any) -> dict[str, Any]:
    key = key or uuid.uuid4().hex[:20].upper()
    body: dict[str, Any] = {
        "id": f"false_{GUEST_CHAT}_{key}",
        "timestamp": int(dt.datetime.now(dt.UTC).timestamp()),
        "from": GUEST_CHAT,
        "fromMe": False,
        "to": "4930000001@c.us",
        "body": text,
        "hasMedia": False,
        "_data": {"notifyName": "Ada"},
    }
    body.update(extra)
    return body


def thread(db: Conn) -> list[dict[str, Any]]:
    with db.cursor(row_factory=dict_row) as cur:
        return cur.execute("select * from public.conversation_messages order by id").fetchall()


def hotel(factory: Factory, *, guest: bool = True) -> Tenant:
    tenant = factory.tenant()
    factory.waha_configuration(tenant)
    if guest:
        factory.reservation(tenant, arrival_date="2027-06-01", departure_date="2027-06-03")
    return tenant


async def deliver(db: Conn, tenant: Tenant, processor: InboundProcessor, *events: dict[str, Any]) -> None:
    ingest(db, tenant, "waha", "waha", list(events))
    while await processor.run_batch():
        pass


# ---- ingestion ------------------------------------------------------------------------------------
async def test_a_guest_message_opens_a_conversation_once(
    db: Conn, factory: Factory, processor: InboundProcessor
) -> None:
    tenant = hotel(factory)
    message = guest_message("Can I check in early?")
    # WAHA posts `message` and `message.any` for one message, and retries a delivery it doubts.
    first = waha_event("message", message)
    await deliver(db, tenant, processor, first, waha_event("message.any", message))
    await deliver(db, tenant, processor, waha_event("message", message))

    [row] = thread(db)
    assert (row["direction"], row["sender"], row["body"], row["language"]) == (
        "inbound",
        "guest",
        "Can I check in early?",
        "en",
    )
    conversation = db.execute(
        "select c.status, c.contact_name, c.detected_language, c.phone_e164, g.full_name, c.property_id"
        " from public.conversations c join public.guests g on g.id = c.guest_id"
    ).fetchall()
    assert conversation == [("open", "Ada", "en", GUEST_PHONE, "Ada Lovelace", tenant.property_id)]
    # The two events of one batch are handled at once: either may be the one that stores it.
    states = [state[1] for state in event_states(db)]
    assert sorted(states[:2]) == ["ignored", "succeeded"] and states[2] == "ignored"
    # The guest's stored language (de) is never changed by what they write.
    assert db.execute("select language from public.guests").fetchone() == ("de",)


@pytest.mark.parametrize(
    ("chat", "why"),
    [
        ("120363025555555555@g.us", "group"),
        ("status@broadcast", "status"),
        ("120363025555555555@newsletter", "channel"),
    ],
)
async def test_groups_status_broadcasts_and_channels_are_no_conversations(
    db: Conn, factory: Factory, processor: InboundProcessor, chat: str, why: str
) -> None:
    tenant = hotel(factory)
    message = guest_message("Hello everyone", **{"from": chat, "participant": GUEST_CHAT})
    await deliver(db, tenant, processor, waha_event("message", message))
    assert db.execute("select count(*) from public.conversations").fetchone() == (0,), why
    assert event_states(db)[0][1] == "ignored"


async def test_an_unknown_number_opens_a_conversation_staff_can_link(
    db: Conn, factory: Factory, processor: InboundProcessor
) -> None:
    tenant = hotel(factory, guest=False)
    staff = factory.member(tenant, "staff")
    await deliver(db, tenant, processor, waha_event("message", guest_message("Do you have a room tonight?")))
    [conversation] = as_user(db, staff, "select * from public.list_conversations(%s)", (tenant.id,))
    assert (conversation["guest_id"], conversation["contact_name"], conversation["phone_e164"]) == (
        None,
        "Ada",
        GUEST_PHONE,
    )

    guest = db.execute(
        "insert into public.guests (tenant_id, full_name) values (%s, 'Ada L.') returning id", (tenant.id,)
    ).fetchone()
    assert guest is not None
    as_user(db, staff, "select public.link_conversation_guest(%s, %s)", (conversation["id"], guest[0]))
    [linked] = as_user(db, staff, "select * from public.list_conversations(%s)", (tenant.id,))
    assert (linked["guest_id"], linked["guest_name"]) == (guest[0], "Ada L.")

    other = hotel(factory, guest=False)
    foreign = db.execute(
        "insert into public.guests (tenant_id, full_name) values (%s, 'Not yours') returning id", (other.id,)
    ).fetchone()
    assert foreign is not None
    sql = "select public.link_conversation_guest(%s, %s)"
    assert (
        refusal(db, staff, sql, (conversation["id"], foreign[0]))[:2]
        == refusal(db, staff, sql, (conversation["id"], uuid.uuid4()))[:2]
    )


async def test_the_hotel_writing_from_the_phone_is_told_from_our_sends(
    db: Conn, factory: Factory, processor: InboundProcessor
) -> None:
    tenant = hotel(factory)
    await deliver(db, tenant, processor, waha_event("message", guest_message("Where do I park?")))
    ours = factory.message(tenant, status="sending", lease_owner="w", lease_expires_at=dt.datetime.now(dt.UTC))
    # An engine that says where a message was written from: "api" is ours, nothing to do.
    api = guest_message("Your room is ready", key="OURS1", id=f"true_{GUEST_CHAT}_OURS1", fromMe=True, source="api")
    api.update({"from": "4930000001@c.us", "to": GUEST_CHAT})
    await deliver(db, tenant, processor, waha_event("message.any", api))
    assert event_states(db)[-1][1] == "ignored"
    echo = guest_message("Your room is ready", key="OURS1", id=f"true_{GUEST_CHAT}_OURS1", fromMe=True, to=GUEST_CHAT)
    echo["from"] = "4930000001@c.us"
    # WAHA's echo of our send before the worker recorded its id: retried, not taken for the phone.
    await deliver(db, tenant, processor, waha_event("message.any", echo))
    status, error = event_states(db)[-1][1:]
    assert status == "pending" and error is not None and "may be one of our sends" in error
    assert len(thread(db)) == 1
    db.execute("select internal.mark_message_sent_v1(%s, 'w', 'OURS1')", (ours,))
    db.execute("update public.inbound_events set next_attempt_at = now() where status = 'pending'")
    await deliver(db, tenant, processor)
    phone = guest_message("Garage B, level -1", key="PHONE1", id=f"true_{GUEST_CHAT}_PHONE1", fromMe=True, source="app")
    phone.update({"from": "4930000001@c.us", "to": GUEST_CHAT})
    await deliver(db, tenant, processor, waha_event("message.any", phone))

    assert [(m["sender"], m["body"]) for m in thread(db)] == [
        ("guest", "Where do I park?"),
        ("automation", "Hello"),
        ("phone", "Garage B, level -1"),
    ]
    assert db.execute("select status from public.conversations").fetchone() == ("open",)


MEDIA = [
    (
        "image",
        {"hasMedia": True, "body": "The receipt", "media": {"url": "http://waha/api/files/default/A.jpeg",
         "mimetype": "image/jpeg", "filename": None}, "_data": {"type": "image", "size": 48213}},
        {"media_kind": "image", "media_mimetype": "image/jpeg", "media_size": 48213, "body": "The receipt"},
    ),
    (
        "document",
        {"hasMedia": True, "media": {"url": "http://waha/api/files/default/B.pdf", "mimetype": "application/pdf",
         "filename": "invoice.pdf"}, "_data": {"message": {"documentMessage": {"fileLength": "1024"}}}},
        {"media_kind": "document", "media_filename": "invoice.pdf", "media_size": 1024},
    ),
    (
        "voice",
        {"hasMedia": True, "media": {"url": "http://waha/api/files/default/C.oga",
         "mimetype": "audio/ogg; codecs=opus"}, "_data": {"message": {"audioMessage": {"ptt": True}}}},
        {"media_kind": "voice", "media_mimetype": "audio/ogg; codecs=opus", "has_media_file": True},
    ),
    (
        "video",
        {"hasMedia": True, "media": {"url": "http://waha/api/files/default/D.mp4", "mimetype": "video/mp4"}},
        {"media_kind": "video"},
    ),
    (
        "location",
        {"location": {"latitude": "52.5200", "longitude": "13.4050", "live": False, "name": "Brandenburger Tor"}},
        {"media_kind": "location", "location_latitude": 52.52, "location_longitude": 13.405,
         "location_name": "Brandenburger Tor", "has_media_file": False},
    ),
    (
        "media WAHA could not download",
        {"hasMedia": True, "media": {"url": None, "mimetype": "image/png", "error": {"message": "gone"}}},
        {"media_kind": "image", "has_media_file": False},
    ),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "fields", "expected"), MEDIA, ids=[m[0] for m in MEDIA])
async def test_each_kind_of_media_is_described_never_stored(
    db: Conn, factory: Factory, processor: InboundProcessor, kind: str, fields: dict[str, Any], expected: dict[str, Any]
) -> None:
    tenant = hotel(factory)
    await deliver(db, tenant, processor, waha_event("message", guest_message(**fields)))
    [row] = thread(db)
    assert {k: row[k] for k in expected} == expected, kind
    preview = db.execute("select last_message_preview from public.conversations").fetchone()
    assert preview is not None and preview[0].startswith(f"[{expected['media_kind']}]")


# ---- opt-out and opt-in ---------------------------------------------------------------------------
async def test_stop_opts_out_and_start_opts_back_in_only_where_the_hotel_allows_it(
    db: Conn, factory: Factory, processor: InboundProcessor
) -> None:
    tenant = hotel(factory)
    owner = factory.member(tenant, "owner")
    await deliver(db, tenant, processor, waha_event("message", guest_message("STOP")))
    assert db.execute("select whatsapp_opt_in from public.guests").fetchone() == (False,)
    [listed] = as_user(db, owner, "select * from public.list_conversations(%s)", (tenant.id,))
    assert listed["guest_opted_out"] is True

    await deliver(db, tenant, processor, waha_event("message", guest_message("Start")))
    assert db.execute("select whatsapp_opt_in from public.guests").fetchone() == (False,)

    as_user(db, owner, "select public.set_inbox_settings(%s, true)", (tenant.id,))
    await deliver(db, tenant, processor, waha_event("message", guest_message("START")))
    assert db.execute("select whatsapp_opt_in from public.guests").fetchone() == (True,)
    assert [m["consent_change"] for m in thread(db)] == ["opted_out", "opt_in_refused", "opted_in"]
    changes = db.execute(
        "select whatsapp_opt_in, source, reason from public.guest_consent_changes order by id"
    ).fetchall()
    assert changes == [(False, "guest", "guest asked to stop"), (True, "system", "guest wrote START")]

    staff = factory.member(tenant, "staff")
    assert refusal(db, staff, "select public.set_inbox_settings(%s, false)", (tenant.id,))[0] == "PT404"


async def test_a_reply_to_an_opted_out_guest_needs_a_reason_and_stop_again_refuses_it(
    db: Conn, factory: Factory, processor: InboundProcessor
) -> None:
    tenant = hotel(factory)
    staff = factory.member(tenant, "staff")
    await deliver(db, tenant, processor, waha_event("message", guest_message("STOP")))
    (conversation,) = db.execute("select id from public.conversations").fetchone() or (None,)

    sql = "select * from public.send_reply(%s, %s, %s, %s)"
    code, _, hint = refusal(db, staff, sql, (conversation, "Your invoice is attached", False, None))
    assert (code, hint) == ("PT409", "confirm_opt_out")
    assert refusal(db, staff, sql, (conversation, "Your invoice", True, " "))[2] == "confirm_opt_out"

    [sent] = as_user(db, staff, sql, (conversation, "Your invoice is attached", True, "guest asked at the desk"))
    row = db.execute(
        "select status::text, opt_out_override, sent_by, priority from public.message_logs where id = %s",
        (sent["message_log_id"],),
    ).fetchone()
    assert row == ("queued", True, staff, 1)
    # The confirmed reply goes out: prepare_messages_v2 lets it through, v1 would have cancelled it.
    db.execute("update public.waha_configurations set next_send_at = now()")
    [(claimed,)] = db.execute("select id from internal.claim_messages_v6('w', 10)").fetchall()
    assert claimed == sent["message_log_id"]
    assert db.execute(
        "select id, to_phone from internal.prepare_messages_v2(array[%s]::bigint[], 'w')", (claimed,)
    ).fetchall() == [(claimed, GUEST_PHONE)]

    await deliver(db, tenant, processor, waha_event("message", guest_message("stop")))
    code, _, hint = refusal(db, staff, sql, (conversation, "Sorry, one more thing", True, "important"))
    assert (code, hint) == ("PT409", "stopped_again")
    [(reason,)] = db.execute(
        "select opt_out_override_reason from public.conversation_messages where sender = 'staff'"
    ).fetchall()
    assert reason == "guest asked at the desk"


# ---- replies, roles, ticks ------------------------------------------------------------------------
async def test_a_reply_goes_through_the_queue_and_the_thread_follows_its_ticks(
    db: Conn, factory: Factory, processor: InboundProcessor
) -> None:
    tenant = hotel(factory)
    staff = factory.member(tenant, "staff")
    await deliver(db, tenant, processor, waha_event("message", guest_message("Can I park?")))
    (conversation,) = db.execute("select id from public.conversations").fetchone() or (None,)
    [sent] = as_user(db, staff, "select * from public.send_reply(%s, ' Yes, garage B ')", (conversation,))
    assert thread(db)[-1]["delivery_status"] == "queued"
    assert thread(db)[-1]["sent_by"] == staff

    db.execute("select id from internal.claim_messages_v6('w', 10)")
    db.execute("select internal.mark_message_sent_v1(%s, 'w', 'true_4915112345678@c.us_R1')", (sent["message_log_id"],))
    assert thread(db)[-1]["delivery_status"] == "sent"
    db.execute("select internal.record_message_ack_v1(%s, 'true_4915112345678@c.us_R1', 3)", (tenant.id,))
    last = thread(db)[-1]
    assert (last["delivery_status"], last["body"], last["waha_key"]) == ("read", "Yes, garage B", "R1")

    # WAHA's echo of the reply adds nothing.
    echo = guest_message("Yes, garage B", id="true_4915112345678@c.us_R1", fromMe=True, to=GUEST_CHAT)
    await deliver(db, tenant, processor, waha_event("message.any", echo))
    assert len(thread(db)) == 2

    assert refusal(db, staff, "select * from public.send_reply(%s, '')", (conversation,))[0] == "22023"
    outsider = factory.member(hotel(factory, guest=False), "owner")
    sql = "select * from public.send_reply(%s, 'hi')"
    assert refusal(db, outsider, sql, (conversation,))[:2] == refusal(db, outsider, sql, (uuid.uuid4(),))[:2]
    assert refusal(db, None, sql, (conversation,))[0] == "42501"


async def test_templates_fill_in_as_quick_replies(db: Conn, factory: Factory, processor: InboundProcessor) -> None:
    tenant = hotel(factory)
    staff = factory.member(tenant, "staff")
    for language, body in (
        ("en", "Hi {{guest_first_name}}, see you on {{arrival_date}}"),
        ("de", "Hallo {{guest_first_name}}"),
    ):
        db.execute(
            "insert into public.message_templates (tenant_id, key, language, body) values (%s, 'parking', %s, %s)",
            (tenant.id, language, body),
        )
    await deliver(db, tenant, processor, waha_event("message", guest_message("Where can I park my car?")))
    (conversation,) = db.execute("select id from public.conversations").fetchone() or (None,)
    sql = "select * from public.render_reply_template(%s, 'parking', %s)"
    assert as_user(db, staff, sql, (conversation, None)) == [{"body": "Hallo Ada", "language": "de"}]
    assert as_user(db, staff, sql, (conversation, "en")) == [
        {"body": "Hi Ada, see you on 2027-06-01", "language": "en"}
    ]
    assert refusal(db, staff, "select * from public.render_reply_template(%s, 'nope')", (conversation,))[0] == "PT404"
    [stay] = as_user(db, staff, "select * from public.conversation_reservations(%s)", (conversation,))
    assert (stay["timing"], stay["arrival_date"]) == ("upcoming", dt.date(2027, 6, 1))


# ---- the inbox ------------------------------------------------------------------------------------
async def test_unread_counts_are_per_member(db: Conn, factory: Factory, processor: InboundProcessor) -> None:
    tenant = hotel(factory)
    anna, ben = factory.member(tenant, "staff"), factory.member(tenant, "staff")
    await deliver(
        db,
        tenant,
        processor,
        waha_event("message", guest_message("Hello")),
        waha_event("message", guest_message("Are you there?")),
    )
    counts = "select * from public.inbox_unread_counts(%s)"
    assert as_user(db, anna, counts, (tenant.id,)) == [
        {"property_id": tenant.property_id, "open_conversations": 1, "unread_conversations": 1, "unread_messages": 2}
    ]
    (conversation,) = db.execute("select id from public.conversations").fetchone() or (None,)
    as_user(db, anna, "select public.mark_conversation_read(%s)", (conversation,))
    assert as_user(db, anna, counts, (tenant.id,))[0]["unread_messages"] == 0
    assert as_user(db, ben, counts, (tenant.id,))[0]["unread_messages"] == 2
    listed = as_user(
        db, ben, "select unread_count from public.list_conversations(%s, 'open', null, null, null, true)", (tenant.id,)
    )
    assert listed == [{"unread_count": 2}]
    # Anna sees only her own read marker.
    assert as_user(db, ben, "select user_id from public.conversation_reads") == []

    as_user(db, anna, "select public.assign_conversation(%s, %s)", (conversation, ben))
    as_user(db, anna, "select public.add_conversation_note(%s, 'Prefers a quiet room')", (conversation,))
    as_user(db, ben, "select public.set_conversation_status(%s, 'closed')", (conversation,))
    row = db.execute("select status, assignee_id from public.conversations").fetchone()
    assert row == ("closed", ben)
    assert refusal(db, anna, "select public.assign_conversation(%s, %s)", (conversation, uuid.uuid4()))[0] == "22023"
    # A new message from the guest opens it again.
    await deliver(db, tenant, processor, waha_event("message", guest_message("One more question")))
    assert db.execute("select status from public.conversations").fetchone() == ("open",)


async def test_search_finds_name_phone_reservation_and_text(
    db: Conn, factory: Factory, processor: InboundProcessor
) -> None:
    tenant = hotel(factory)
    staff = factory.member(tenant, "staff")
    await deliver(db, tenant, processor, waha_event("message", guest_message("Is breakfast vegan-friendly?")))
    (pms_id,) = db.execute("select pms_reservation_id from public.reservations").fetchone() or (None,)
    sql = "select id from public.list_conversations(%s, 'all', null, %s)"
    for query in ("lovelace", "151123", pms_id, "VEGAN"):
        assert len(as_user(db, staff, sql, (tenant.id, query))) == 1, query
    for query in ("nobody", "999999"):
        assert as_user(db, staff, sql, (tenant.id, query)) == [], query
    assert refusal(db, staff, sql, (tenant.id, "x"))[0] == "22023"


async def test_members_of_another_hotel_see_nothing(db: Conn, factory: Factory, processor: InboundProcessor) -> None:
    tenant = hotel(factory)
    await deliver(db, tenant, processor, waha_event("message", guest_message("Hello")))
    (conversation,) = db.execute("select id from public.conversations").fetchone() or (None,)
    db.execute(
        "insert into public.conversation_notes (tenant_id, conversation_id, body) values (%s, %s, 'x')",
        (tenant.id, conversation),
    )
    outsider = factory.member(hotel(factory, guest=False), "owner")
    for table in ("conversations", "conversation_messages", "conversation_notes", "conversation_reads"):
        assert as_user(db, outsider, f"select * from public.{table}") == [], table
    assert refusal(db, outsider, "select * from public.list_conversations(%s)", (tenant.id,))[0] == "PT404"


# ---- live updates ---------------------------------------------------------------------------------
@pytest.fixture
async def realtime(clean_db: str) -> AsyncIterator[RealtimeSimulator]:
    async with RealtimeSimulator(clean_db) as sim:
        yield sim
        sim.assert_no_violations()


async def test_live_thread_updates_reach_only_the_hotels_own_members(
    db: Conn, factory: Factory, realtime: RealtimeSimulator
) -> None:
    hotels = [hotel(factory), hotel(factory)]
    clients: list[AsyncRealtimeClient] = []
    seen: list[list[Any]] = [[], []]
    try:
        for n, tenant in enumerate(hotels):
            client = AsyncRealtimeClient(f"{realtime.base_url}/realtime/v1", realtime.anon_key(), auto_reconnect=False)
            await client.set_auth(user_token(realtime, factory.member(tenant, "staff")))
            channel = client.channel(f"inbox-{n}")
            for table in ("conversations", "conversation_messages"):
                channel.on_postgres_changes(
                    RealtimePostgresChangesListenEvent.All, seen[n].append, table=table, schema="public"
                )
            await channel.subscribe()
            clients.append(client)
        await realtime.wait_until(lambda: realtime.subscribed == 2)

        for n, tenant in enumerate(hotels):
            db.execute(
                "select internal.record_conversation_message_v1(%s, 'default', %s, %s, false, now(), %s)",
                (tenant.id, GUEST_CHAT, f"false_{GUEST_CHAT}_LIVE{n}", f"question from hotel {n}"),
            )

        def texts(n: int) -> set[str]:
            return {
                str(p["data"]["record"].get("body")) for p in seen[n] if p["data"]["table"] == "conversation_messages"
            }

        await eventually(lambda: "question from hotel 1" in texts(1) and "question from hotel 0" in texts(0))
        assert texts(0) == {"question from hotel 0"} and texts(1) == {"question from hotel 1"}
        for n, tenant in enumerate(hotels):
            assert {p["data"]["record"]["tenant_id"] for p in seen[n]} == {str(tenant.id)}
    finally:
        for client in clients:
            await client.close()


async def test_an_unknown_number_is_linked_when_the_pms_brings_its_guest(
    db: Conn, factory: Factory, processor: InboundProcessor
) -> None:
    tenant = hotel(factory, guest=False)
    await deliver(db, tenant, processor, waha_event("message", guest_message("I booked on your website")))
    assert db.execute("select guest_id, property_id from public.conversations").fetchone() == (None, None)
    factory.reservation(tenant, arrival_date="2027-06-01", departure_date="2027-06-03")
    row = db.execute(
        "select g.full_name, c.property_id from public.conversations c join public.guests g on g.id = c.guest_id"
    ).fetchone()
    assert row == ("Ada Lovelace", tenant.property_id)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Can I check in early?", "en"),
        ("Wo kann ich mein Auto parken?", "de"),
        ("Où est le parking, s'il vous plaît?", "fr"),
        ("¿Dónde puedo aparcar?", "es"),
        ("Posso fare il check-in prima?", "it"),
        ("Is er een parkeerplaats bij het hotel?", "nl"),
        ("Obrigado, até amanhã", "pt"),
        # Too little to tell: no guess.
        ("ok", None),
        ("👍", None),
        ("Hallo", None),
        ("Ada Lovelace", None),
        (None, None),
    ],
)
def test_the_guests_language_is_told_only_when_the_text_says_it(text: str | None, language: str | None) -> None:
    assert detect_language(text) == language


def test_start_words_match_whole_replies_only() -> None:
    assert is_start_request("START") and is_start_request(" Starten! ") and is_start_request("reprendre")
    assert not is_start_request("When does breakfast start?") and not is_start_request(None)
