"""Database calls of the operator tools: one method per query in worker/sql/ops.sql.

Actions go through the SQL functions the dashboard uses (replay_inbound_event, resend_message,
enqueue_sync_v1), so an operator is held to the same rules; an action that cannot be done raises
OpsError with a one-line reason the CLI prints as it is.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import psycopg
from psycopg import errors
from psycopg.rows import DictRow

from worker.db.queries import load
from worker.errors import WorkerError

Row = dict[str, Any]


class OpsError(WorkerError):
    """An operator request that cannot be carried out; str() is the reason, one line."""


class NotFound(OpsError):
    """The id or name given matches nothing."""


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _reason(exc: psycopg.Error) -> str:
    return (exc.diag.message_primary or str(exc)).strip().splitlines()[0]


class OpsStore:
    def __init__(self, conn: psycopg.Connection[DictRow]) -> None:
        self.conn = conn
        self.sql = load("ops")

    def _rows(self, query: str, params: Row | None = None) -> list[Row]:
        return self.conn.execute(self.sql[query], params or {}).fetchall()

    def _one(self, query: str, params: Row | None = None) -> Row | None:
        rows = self._rows(query, params)
        return rows[0] if rows else None

    # ---- looking --------------------------------------------------------------------------------
    def tenant_status(self, tenant_id: str | None = None) -> list[Row]:
        return self._rows("tenant_status", {"tenant_id": tenant_id})

    def platform_status(self) -> Row:
        row = self._one("platform_status")
        assert row is not None  # one row by construction
        return row

    def dead_letters(self, queue: str = "all", tenant_id: str | None = None, limit: int = 50) -> list[Row]:
        return self._rows("dead_letters", {"queue": queue, "tenant_id": tenant_id, "limit": limit})

    def trace(self, request_id: str) -> list[Row]:
        rows = self._rows("trace", {"request_id": request_id})
        if not rows:
            raise NotFound(f"nothing is stored for request id {request_id!r}")
        return rows

    def trace_kind(self, ref: str) -> str:
        """'reservation' or 'job' when ref is the id of one, else 'request'."""
        if not _is_uuid(ref):
            return "request"
        row = self._one("trace_kind", {"ref": ref})
        assert row is not None
        return str(row["kind"])

    def trace_reservation(self, reservation_id: str) -> list[Row]:
        if not _is_uuid(reservation_id):
            raise OpsError(f"{reservation_id!r} is not a reservation id (a UUID)")
        rows = self._rows("trace_reservation", {"id": reservation_id})
        if not rows:
            raise NotFound(f"reservation {reservation_id} not found")
        return rows

    def trace_job(self, job_id: str) -> list[Row]:
        if not _is_uuid(job_id):
            raise OpsError(f"{job_id!r} is not a sync job id (a UUID)")
        rows = self._rows("trace_job", {"id": job_id})
        if not rows:
            raise NotFound(f"sync job {job_id} not found")
        return rows

    def alerts(self, include_resolved: bool = False, tenant_id: str | None = None) -> list[Row]:
        return self._rows("alerts", {"include_resolved": include_resolved, "tenant_id": tenant_id})

    def resolve_tenant(self, ref: str) -> Row:
        """A tenant by id or (case-insensitive) name; a name several tenants share is refused."""
        rows = self._rows("find_tenants", {"ref": ref})
        if not rows:
            raise NotFound(f"no tenant has the id or name {ref!r}")
        if len(rows) > 1:
            ids = ", ".join(r["id"] for r in rows)
            raise OpsError(f"{len(rows)} tenants are named {ref!r} ({ids}): give the id")
        return rows[0]

    # ---- acting ---------------------------------------------------------------------------------
    def replay(self, event_id: int) -> Row:
        event = self._one("event", {"id": event_id})
        if event is None:
            raise NotFound(f"inbound event {event_id} not found")
        try:
            row = self._one("replay_event", {"id": event_id})
        except (errors.NoDataFound, errors.InsufficientPrivilege) as exc:
            raise OpsError(_reason(exc)) from None
        if not (row and row["replayed"]):
            raise OpsError(f"inbound event {event_id} is {event['status']}, not dead: nothing to replay")
        return {**event, "status": "pending", "attempts": 0}

    def resend(self, message_id: int) -> Row:
        message = self._one("message", {"id": message_id})
        if message is None:
            raise NotFound(f"message {message_id} not found")
        try:
            row = self._one("resend_message", {"id": message_id})
        except (errors.NoDataFound, errors.CheckViolation, errors.InsufficientPrivilege) as exc:
            raise OpsError(_reason(exc)) from None
        if not (row and row["resent"]):
            raise OpsError(
                f"message {message_id} is {message['status']}: "
                "only dead, failed, cancelled or skipped messages are resent"
            )
        return {**message, "status": "queued", "attempts": 0}

    def sync(self, tenant_ref: str, kind: str = "incremental", provider: str | None = None) -> Row:
        """Asks for a sync of each active PMS configuration of the tenant (or the one provider).
        A sync of the same kind already waiting is joined, not duplicated."""
        tenant = self.resolve_tenant(tenant_ref)
        configurations = [
            c
            for c in self._rows("pms_configurations", {"tenant_id": tenant["id"]})
            if c["is_active"] and (provider is None or c["provider"] == provider)
        ]
        if not configurations:
            which = f"active {provider} PMS configuration" if provider else "active PMS configuration"
            raise OpsError(f"tenant {tenant['name']!r} has no {which} to sync")
        request_id = f"ops-{uuid.uuid4().hex[:16]}"
        jobs = []
        for configuration in configurations:
            row = self._one(
                "enqueue_sync", {"configuration_id": configuration["id"], "kind": kind, "request_id": request_id}
            )
            assert row is not None
            job = self._one("sync_job", {"id": row["job_id"]})
            assert job is not None
            jobs.append(
                {
                    "job_id": job["id"],
                    "provider": configuration["provider"],
                    "kind": kind,
                    "status": job["status"],
                    # A job already waiting keeps the request id of whoever asked first.
                    "joined_existing": job["request_id"] != request_id,
                }
            )
        return {"tenant_id": tenant["id"], "tenant_name": tenant["name"], "request_id": request_id, "jobs": jobs}

    def evaluate_alerts(self) -> Row:
        row = self._one("evaluate_alerts")
        assert row is not None
        return row

    def acknowledge(self, alert_id: int, by: str) -> bool:
        try:
            row = self._one("acknowledge_alert", {"id": alert_id, "by": by})
        except errors.NoDataFound as exc:
            raise NotFound(_reason(exc)) from None
        except errors.ObjectNotInPrerequisiteState as exc:
            raise OpsError(_reason(exc)) from None
        return bool(row and row["acknowledged"])

    # ---- maintenance windows --------------------------------------------------------------------
    def maintenance(self) -> Row:
        self._one("ensure_scheduled_windows")
        return {"windows": self._rows("maintenance_windows"), "deployments": self._rows("deployments")}

    def announce_emergency(
        self, starts_at: dt.datetime, duration: str, reason: str, by: str, components: list[str]
    ) -> int:
        try:
            row = self._one(
                "schedule_emergency",
                {"starts_at": starts_at, "duration": duration, "reason": reason, "by": by, "components": components},
            )
        except (errors.InvalidParameterValue, errors.CheckViolation, errors.InvalidDatetimeFormat) as exc:
            raise OpsError(_reason(exc)) from None
        assert row is not None
        return int(row["id"])

    def cancel_window(self, window_id: int, by: str) -> None:
        row = self._one("cancel_window", {"id": window_id, "by": by})
        if not (row and row["cancelled"]):
            raise NotFound(f"maintenance window {window_id} not found or already cancelled")
