"""Fault cells against the real worker: SIGKILL, a PostgreSQL restart, backend termination and
repeated kills, each on a fresh database, with the WAHA simulator's record as the truth.

Every cell asserts what a guest or a hotel would notice: no message lost or left stuck, none
sent twice (the sessions run WEBJS, which can say what a chat already has), each guest's messages
in their planned order, and the sessions a killed worker held sending again long before the
two-minute lease would have freed them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest

from devstack.simulators.waha import SentMessage, WahaSimulator
from tests import faults

pytestmark = pytest.mark.slow

# Generous: the takeover takes seconds (worker/liveness.py); the lease it no longer waits for is 120 s.
TAKEOVER_BOUND_SECONDS = 30.0


def _assert_guests_got_everything_once_in_order(
    db: psycopg.Connection[Any], waha: WahaSimulator, planned: list[faults.Planned]
) -> None:
    result = faults.outcome(db, waha, planned)
    assert result.lost == [], "every guest got every message"
    assert result.not_sent_in_db == 0, "no message is left stuck (sending, queued, failed) in the database"
    assert result.duplicated == [], "no guest got a message twice"
    assert result.out_of_order == {}, "each guest got their messages in the planned order"
    waha.assert_no_violations()


async def test_a_sigkill_mid_send_loses_nothing_duplicates_nothing_and_is_taken_over() -> None:
    with faults.fresh_database() as pg, psycopg.connect(pg.url, autocommit=True) as db:
        async with faults.simulator() as waha:
            planned = faults.plan(db, waha)
            processes = faults.workers(pg.url, 2)
            kills = faults.kill_on_send(waha, db, processes, after=[5])
            try:
                await faults.started(processes)
                await faults.until(lambda: faults.all_settled(db))
            finally:
                await faults.stop_all(processes)
            assert len(kills) == 1 and kills[0].held, "the worker died holding sends"
            _assert_guests_got_everything_once_in_order(db, waha, planned)
            assert faults.taken_over_within(db, kills[0]) < TAKEOVER_BOUND_SECONDS
            # The send WAHA had accepted as the worker died was taken back in doubt and settled from
            # WAHA's answer (the record above shows it went out once).
            accepted = db.execute(
                "select status, send_uncertain from public.message_logs where id = %s", (kills[0].accepted,)
            ).fetchone()
            assert accepted == ("sent", True)


async def test_repeated_kills_lose_and_duplicate_nothing() -> None:
    """Three kills mid-send, one after another; a fresh worker is started after each."""
    with faults.fresh_database() as pg, psycopg.connect(pg.url, autocommit=True) as db:
        async with faults.simulator() as waha:
            planned = faults.plan(db, waha, per_guest=5)
            processes = faults.workers(pg.url, 2)
            kills = faults.kill_on_send(waha, db, processes, after=[5, 10, 15])
            try:
                await faults.started(processes)
                for n in range(1, 4):
                    await faults.until(_at_least(kills, n))
                    replacement = faults.workers(pg.url, 1)
                    processes.extend(replacement)
                    await faults.started(replacement)
                await faults.until(lambda: faults.all_settled(db), seconds=90)
            finally:
                await faults.stop_all(processes)
            assert len(kills) == 3
            _assert_guests_got_everything_once_in_order(db, waha, planned)
            for kill in kills:
                assert faults.taken_over_within(db, kill) < TAKEOVER_BOUND_SECONDS


async def test_a_postgres_restart_mid_send_loses_and_duplicates_nothing() -> None:
    with faults.fresh_database() as pg, psycopg.connect(pg.url, autocommit=True) as db:
        async with faults.simulator() as waha:
            planned = faults.plan(db, waha)
            processes = faults.workers(pg.url, 2)
            accepted: list[SentMessage] = []

            def stop_on_fifth_send(message: SentMessage) -> None:
                accepted.append(message)
                if len(accepted) == 5:
                    # Immediate: every connection is cut while WAHA has this message and the
                    # worker has not recorded it.
                    pg.stop(mode="immediate")

            try:
                await faults.started(processes)
                waha.on_sent = stop_on_fifth_send
                await faults.until(lambda: len(accepted) >= 5)
                waha.on_sent = None
                pg.start()
                with psycopg.connect(pg.url, autocommit=True) as db_again:
                    await faults.until(lambda: faults.all_settled(db_again), seconds=90)
                    _assert_guests_got_everything_once_in_order(db_again, waha, planned)
                for process in processes:
                    assert process.process is not None and process.process.returncode is None, (
                        "the workers rode out the restart"
                    )
            finally:
                await faults.stop_all(processes)


async def test_terminated_backends_lose_and_duplicate_nothing() -> None:
    """pg_terminate_backend on every connection of every worker (pool, liveness, LISTEN)."""
    with faults.fresh_database() as pg, psycopg.connect(pg.url, autocommit=True) as db:
        async with faults.simulator() as waha:
            planned = faults.plan(db, waha)
            processes = faults.workers(pg.url, 2)
            terminated: list[int] = []

            def terminate_once(message: SentMessage) -> None:
                if terminated:
                    return
                rows = db.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity"
                    " where application_name like 'worker%' and pid <> pg_backend_pid()"
                ).fetchall()
                terminated.append(len(rows))

            try:
                await faults.started(processes)
                waha.on_sent = terminate_once
                await faults.until(lambda: bool(terminated))
                waha.on_sent = None
                await faults.until(lambda: faults.all_settled(db), seconds=90)
            finally:
                await faults.stop_all(processes)
            assert terminated[0] >= 2 * 3, "the pool, liveness and LISTEN connections of both workers were cut"
            _assert_guests_got_everything_once_in_order(db, waha, planned)


async def test_an_engine_without_history_counts_the_possible_duplicate() -> None:
    """NOWEB without its store cannot say what a chat has: a send cut off by a kill is sent again
    and counted in worker_possible_duplicate_sends; no message is lost, and a duplicate is only
    ever one of the sends the killed worker held."""
    with faults.fresh_database() as pg, psycopg.connect(pg.url, autocommit=True) as db:
        async with faults.simulator(engine="NOWEB") as waha:
            planned = faults.plan(db, waha)
            processes = faults.workers(pg.url, 2)
            kills = faults.kill_on_send(waha, db, processes, after=[5])
            try:
                await faults.started(processes)
                ports = {faults.worker_id(p): await p.health_port() for p in processes}
                await faults.until(lambda: faults.all_settled(db))
                (survivor,) = (worker for worker in ports if worker != kills[0].worker_id)
                async with httpx.AsyncClient() as client:
                    metrics = (await client.get(f"http://127.0.0.1:{ports[survivor]}/metrics")).text
            finally:
                await faults.stop_all(processes)
            result = faults.outcome(db, waha, planned)
            assert result.lost == [] and result.not_sent_in_db == 0
            held = set(kills[0].held)
            assert all(p.id in held for p in result.duplicated), "only a send cut off by the kill went twice"
            counted = re.search(r"^worker_possible_duplicate_sends_total (\S+)$", metrics, re.MULTILINE)
            assert counted is not None
            assert float(counted.group(1)) >= len(result.duplicated) >= 1, "the duplicate is counted"


def _at_least(kills: list[faults.Kill], n: int) -> Callable[[], bool]:
    return lambda: len(kills) >= n
