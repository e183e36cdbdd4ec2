"""Sync jobs end to end: the runner against the generic PMS simulator and the real database."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from devstack.simulators.pms.base import Booking
from devstack.simulators.pms.generic import GenericPmsSimulator
from devstack.simulators.pms.harness import (
    configuration,
    configure,
    drain,
    fast_registry,
    jobs,
    reservations,
)
from tests.factories import Factory, Tenant
from worker.pms.http import RetryPolicy
from worker.sync.runner import SyncSettings, run_next_job, schedule_due_syncs

KEY = "generic-key"
NOW = dt.datetime.now(dt.UTC)


def booking(n: int, modified: dt.datetime, **changes: Any) -> Booking:
    values: dict[str, Any] = {
        "id": f"G-{n:05d}",
        "property_id": "PROP-1",
        "status": "confirmed",
        "arrival": dt.date(2027, 1, 1) + dt.timedelta(days=n % 300),
        "departure": dt.date(2027, 1, 3) + dt.timedelta(days=n % 300),
        "modified": modified,
        "first_name": "Guest",
        "last_name": f"No{n}",
        "phone": f"+4915{n:09d}",
        "email": f"guest{n}@example.com",
    }
    values.update(changes)
    return Booking(**values)


@pytest.fixture
async def pms() -> AsyncIterator[GenericPmsSimulator]:
    async with GenericPmsSimulator(api_keys=[KEY]) as sim:
        yield sim


@pytest.fixture
def tenant(factory: Factory) -> Tenant:
    return factory.tenant(timezone="Europe/Berlin", pms_property_id="PROP-1")


# Seconds on an idle machine; the reservations' message planning (a trigger per row) dominates.
@pytest.mark.timeout(600)
async def test_first_connection_brings_in_5000_reservations_page_by_page(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: GenericPmsSimulator, tenant: Tenant
) -> None:
    pms.put(*(booking(n, NOW - dt.timedelta(days=3, seconds=n)) for n in range(5000)))

    config = configure(db, tenant.id, "generic", pms.base_url, {"api_key": KEY})
    assert await drain(pool, http, fast_registry()) == 1

    [job] = jobs(db)
    assert (job["kind"], job["trigger"], job["status"]) == ("full", "initial", "succeeded")
    assert (job["pages"], job["created_count"], job["failed_count"]) == (25, 5000, 0)
    assert len(pms.requests("/reservations")) == 25
    stored = reservations(db)
    assert len(stored) == 5000
    assert stored["G-00042"]["full_name"] == "Guest No42"
    assert stored["G-00042"]["phone_e164"] == "+4915000000042"
    state = configuration(db, config)
    assert state["health"] == "ok"
    assert state["sync_cursor"] == job["cursor_to"]

    # The same sync again changes nothing.
    db.execute("select internal.enqueue_sync_v1(%s, 'full', 'manual')", (config,))
    await drain(pool, http, fast_registry())
    again = jobs(db)[-1]
    assert (again["status"], again["created_count"], again["updated_count"], again["unchanged_count"]) == (
        "succeeded",
        0,
        0,
        5000,
    )


async def test_an_incremental_sync_after_a_two_hour_outage_recovers_exactly_the_missed_changes(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: GenericPmsSimulator, tenant: Tenant
) -> None:
    pms.put(*(booking(n, NOW - dt.timedelta(days=1, minutes=n)) for n in range(40)))
    config = configure(db, tenant.id, "generic", pms.base_url, {"api_key": KEY})
    await drain(pool, http, fast_registry())
    assert len(reservations(db)) == 40
    # The last good sync was two hours ago; then the PMS went down.
    last_good = NOW - dt.timedelta(hours=2)
    db.execute("update public.pms_configurations set sync_cursor = %s where id = %s", (last_good, config))
    pms.go_down()

    # While it is down, the hotel keeps working: 7 changes and 3 new bookings.
    for i, n in enumerate(range(0, 35, 5)):
        pms.touch(f"G-{n:05d}", at=last_good + dt.timedelta(minutes=10 + 15 * i), status="cancelled")
    pms.put(*(booking(100 + n, last_good + dt.timedelta(minutes=30 + n)) for n in range(3)))

    # The scheduled sync fails: the configuration is failing, the cursor stays.
    db.execute("select internal.enqueue_sync_v1(%s, 'incremental', 'schedule')", (config,))
    await drain(pool, http, fast_registry())
    failed = jobs(db)[-1]
    assert (failed["kind"], failed["status"]) == ("incremental", "failed")
    assert "503" in failed["error"]
    state = configuration(db, config)
    assert (state["health"], state["consecutive_failures"], state["sync_cursor"]) == ("failing", 1, last_good)
    assert state["sync_paused_reason"] is None  # an outage does not pause the schedule

    # The PMS answers again: a webhook's reservation fetch is the first success ...
    pms.come_back()
    db.execute("select internal.enqueue_sync_v1(%s, 'reservation', 'webhook', 'G-00039', 'req-hook')", (config,))
    assert await drain(pool, http, fast_registry()) == 2

    # ... and it starts a recovery sync from the last good cursor, which closes the gap.
    fetch, recovery = jobs(db)[-2:]
    assert (fetch["kind"], fetch["status"], fetch["unchanged_count"]) == ("reservation", "succeeded", 1)
    assert (recovery["kind"], recovery["trigger"], recovery["status"]) == ("incremental", "recovery", "succeeded")
    assert (recovery["created_count"], recovery["updated_count"], recovery["unchanged_count"]) == (3, 7, 0)
    assert recovery["cursor_from"] == last_good - SyncSettings().overlap
    stored = reservations(db)
    assert len(stored) == 43
    assert [pid for pid, r in sorted(stored.items()) if r["status"] == "cancelled"] == [
        f"G-{n:05d}" for n in range(0, 35, 5)
    ]
    state = configuration(db, config)
    assert (state["health"], state["consecutive_failures"]) == ("ok", 0)
    assert state["sync_cursor"] == recovery["cursor_to"]


async def test_revoked_credentials_mark_the_configuration_failing_without_a_retry_storm(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: GenericPmsSimulator, tenant: Tenant
) -> None:
    pms.put(booking(1, NOW - dt.timedelta(days=1)))
    config = configure(db, tenant.id, "generic", pms.base_url, {"api_key": KEY})
    await drain(pool, http, fast_registry())
    pms.revoke(KEY)
    before = len(pms.log)

    db.execute("select internal.enqueue_sync_v1(%s, 'incremental', 'schedule')", (config,))
    await drain(pool, http, fast_registry())
    job = jobs(db)[-1]
    assert job["status"] == "failed"
    assert job["error"].startswith("generic rejected the credentials (401)")
    state = configuration(db, config)
    assert state["health"] == "failing"
    assert state["last_error"] == job["error"]
    assert state["sync_paused_reason"] == job["error"]
    assert len(pms.log) == before + 1  # one request, no retries

    # Nothing keeps knocking: the schedule skips it and webhook fetches are not attempted.
    db.execute("update public.sync_jobs set requested_at = now() - interval '1 day'")
    assert await schedule_due_syncs(pool) == 0
    db.execute("select internal.enqueue_sync_v1(%s, 'reservation', 'webhook', 'G-00001', 'req-x')", (config,))
    await drain(pool, http, fast_registry())
    assert jobs(db)[-1]["error"].startswith("not attempted, syncs are paused: generic rejected the credentials")
    assert len(pms.log) == before + 1

    # The admin pastes a new key: a recovery sync runs and the configuration is healthy again.
    pms.api_keys.add("new-key")
    db.execute("select public.set_pms_credentials(%s, %s::jsonb)", (config, '{"api_key": "new-key"}'))
    assert await drain(pool, http, fast_registry()) == 1
    recovery = jobs(db)[-1]
    assert (recovery["kind"], recovery["trigger"], recovery["status"]) == ("incremental", "recovery", "succeeded")
    state = configuration(db, config)
    assert (state["health"], state["sync_paused_reason"]) == ("ok", None)


async def test_a_rate_limit_hit_mid_sync_is_waited_out(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: GenericPmsSimulator, tenant: Tenant
) -> None:
    pms.put(*(booking(n, NOW - dt.timedelta(days=2, seconds=n)) for n in range(600)))

    def throttle_after_second_page(page: int, path: str) -> None:
        if page == 2:
            pms.throttle_next(retry_after=1)

    pms.before_page = throttle_after_second_page
    configure(db, tenant.id, "generic", pms.base_url, {"api_key": KEY})
    await drain(pool, http, fast_registry())

    [job] = jobs(db)
    assert (job["status"], job["created_count"], job["pages"]) == ("succeeded", 600, 3)
    statuses = [r.status for r in pms.requests("/reservations")]
    assert statuses == [200, 200, 429, 200]
    throttled, retried = pms.requests("/reservations")[2:4]
    assert retried.query == throttled.query  # the same page asked again ...
    assert retried.at - throttled.at >= 1.0  # ... not before Retry-After said


async def test_server_errors_are_retried_and_the_sync_succeeds(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: GenericPmsSimulator, tenant: Tenant
) -> None:
    pms.put(*(booking(n, NOW - dt.timedelta(days=2)) for n in range(3)))
    pms.fail_next(2, status=502)
    config = configure(db, tenant.id, "generic", pms.base_url, {"api_key": KEY})
    await drain(pool, http, fast_registry())
    assert jobs(db)[-1]["status"] == "succeeded"
    assert [r.status for r in pms.log] == [502, 502, 200]
    assert configuration(db, config)["health"] == "ok"


async def test_a_pms_too_slow_to_answer_counts_as_down(
    db: Any, pool: Any, http: httpx.AsyncClient, tenant: Tenant
) -> None:
    async with GenericPmsSimulator(api_keys=[KEY], latency=1.0) as slow:
        config = configure(db, tenant.id, "generic", slow.base_url, {"api_key": KEY})
        impatient = RetryPolicy(attempts=2, initial_wait=0.01, max_wait=0.02, timeout=httpx.Timeout(0.2))
        await drain(pool, http, fast_registry(impatient))
    [job] = jobs(db)
    assert job["status"] == "failed"
    assert "timed out (ReadTimeout) (after 2 attempts)" in job["error"]
    assert configuration(db, config)["health"] == "failing"


async def test_a_reservation_modified_during_a_sync_does_not_make_another_one_slip_through(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: GenericPmsSimulator, tenant: Tenant
) -> None:
    pms.put(*(booking(n, NOW - dt.timedelta(days=2, seconds=1000 - n)) for n in range(600)))

    def modify_an_early_one(page: int, path: str) -> None:
        if page == 3:
            # It leaves the listing (modified after the window): every later one moves up a place.
            pms.touch("G-00005")

    pms.before_page = modify_an_early_one
    configure(db, tenant.id, "generic", pms.base_url, {"api_key": KEY})
    await drain(pool, http, fast_registry())

    job = jobs(db)[-1]
    assert job["status"] == "succeeded"
    assert len(reservations(db)) == 600
    pages = [r.query["page"] for r in pms.requests("/reservations")]
    assert pages == ["1", "2", "3", "2", "3"]  # the pages that moved are read again


async def test_a_sync_and_concurrent_webhooks_converge_on_the_newest_version(
    db: Any, pool: Any, http: httpx.AsyncClient, pms: GenericPmsSimulator, tenant: Tenant, database_url: str
) -> None:
    from devstack.simulators.pms.generic import canonical
    from devstack.simulators.pms.harness import apply_event, store_event

    old, new = NOW - dt.timedelta(hours=2), NOW - dt.timedelta(hours=1)
    # The PMS listing still shows the older version of 30 reservations while their webhooks carry
    # the newer one; the webhooks land while the sync is reading the pages.
    pms.put(*(booking(n, old, room="101") for n in range(30)))
    newer = {n: booking(n, new, room="202") for n in range(30)}

    def webhooks_arrive(page: int, path: str) -> None:
        for n in range(0, 30, 2):
            body = {"type": "reservation.updated", "timestamp": new.isoformat(), "data": canonical(newer[n])}
            stored = store_event(db, tenant.id, "generic", "reservation.updated", body, event_id=f"msg_{n}")
            assert stored is not None
            apply_event(db, stored)

    pms.before_page = webhooks_arrive
    config = configure(db, tenant.id, "generic", pms.base_url, {"api_key": KEY})
    await drain(pool, http, fast_registry())
    job = jobs(db)[-1]
    assert (job["created_count"], job["unchanged_count"]) == (15, 15)  # the 15 older versions were stale

    # And the other order: late webhooks with the older version after the sync stored the newer.
    pms.before_page = None
    pms.put(*newer.values())
    db.execute("select internal.enqueue_sync_v1(%s, 'full', 'manual')", (config,))
    await drain(pool, http, fast_registry())
    for n in range(30):
        late = {"type": "reservation.updated", "timestamp": old.isoformat(), "data": canonical(booking(n, old))}
        stored = store_event(db, tenant.id, "generic", "reservation.updated", late, event_id=f"late_{n}")
        assert stored is not None
        assert apply_event(db, stored) == ["upsert:stale"]

    stored_rows = reservations(db)
    assert {r["room_label"] for r in stored_rows.values()} == {"202"}
    assert {r["pms_updated_at"] for r in stored_rows.values()} == {new}


async def test_two_workers_never_run_syncs_of_one_configuration_at_once(
    db: Any, pool: Any, http: httpx.AsyncClient, tenant: Tenant
) -> None:
    async with GenericPmsSimulator(api_keys=[KEY], latency=0.05) as slow:
        slow.put(*(booking(n, NOW - dt.timedelta(days=1)) for n in range(5)))
        config = configure(db, tenant.id, "generic", slow.base_url, {"api_key": KEY})
        for n in range(5):
            db.execute("select internal.enqueue_sync_v1(%s, 'reservation', 'webhook', %s)", (config, f"G-{n:05d}"))
        registry = fast_registry()
        settings = SyncSettings(merge_limit=0)
        results = await asyncio.gather(
            *(run_next_job(pool, http, f"worker-{i}", settings=settings, registry=registry) for i in range(4))
        )
        # One of them got a job; the others found none claimable (the configuration was busy).
        assert sorted(results) == [False, False, False, True]
        await drain(pool, http, registry, settings=settings)
    rows = db.execute(
        "select a.id from public.sync_jobs a join public.sync_jobs b on a.id < b.id"
        " and a.pms_configuration_id = b.pms_configuration_id"
        " and a.started_at < b.finished_at and b.started_at < a.finished_at"
    ).fetchall()
    assert rows == []
    assert {j["status"] for j in jobs(db)} == {"succeeded"}


async def test_a_worker_stopping_mid_sync_gives_the_job_back(
    db: Any, pool: Any, http: httpx.AsyncClient, tenant: Tenant
) -> None:
    async with GenericPmsSimulator(api_keys=[KEY], latency=0.2) as slow:
        slow.put(*(booking(n, NOW - dt.timedelta(days=1)) for n in range(3)))
        asked = asyncio.Event()
        slow.before_page = lambda page, path: asked.set()
        configure(db, tenant.id, "generic", slow.base_url, {"api_key": KEY})
        task = asyncio.create_task(run_next_job(pool, http, "stopping-worker", registry=fast_registry()))
        await asked.wait()  # the sync is waiting for the PMS's first page
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        [job] = jobs(db)
        assert job["status"] == "pending"
        row = db.execute("select attempts, lease_owner from public.sync_jobs").fetchone()
        assert row == (0, None)
        # Another worker runs it to the end.
        assert await drain(pool, http, fast_registry(), worker="other-worker") == 1
    assert jobs(db)[-1]["status"] == "succeeded"
