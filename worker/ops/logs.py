"""The worker's own log lines for `ops trace`: its JSON lines (worker.log) that carry the traced
request ids, job id or reservation id, as steps to merge with what the database stored."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

Row = dict[str, Any]

# Kept in a step's detail; the rest of a line (logger, ts) is noise in a timeline.
_DETAIL_KEYS = ("tenantId", "requestId", "reservationId", "jobId", "eventId", "messageId", "error")


def _step(line: Row) -> Row | None:
    try:
        at = dt.datetime.fromisoformat(str(line["ts"]))
    except (KeyError, ValueError):
        return None
    return {
        "at": at if at.tzinfo else at.replace(tzinfo=dt.UTC),
        "entity": "log",
        "entity_id": str(line.get("level", "")),
        "tenant_id": line.get("tenantId"),
        "change": str(line.get("msg", "")),
        "detail": {k: line[k] for k in _DETAIL_KEYS if line.get(k) is not None},
        "request_id": line.get("requestId"),
    }


def matching_steps(
    files: Iterable[Path], request_ids: set[str], job_id: str | None = None, reservation_id: str | None = None
) -> list[Row]:
    """Lines of `files` (JSON, one object a line; other lines skipped) about the trace."""
    steps = []
    for path in files:
        with path.open(encoding="utf-8", errors="replace") as handle:
            for raw in handle:
                if not raw.startswith("{"):
                    continue
                try:
                    line = json.loads(raw)
                except json.JSONDecodeError:
                    continue
                if not isinstance(line, dict):
                    continue
                if (
                    (line.get("requestId") in request_ids)
                    or (job_id is not None and line.get("jobId") == job_id)
                    or (reservation_id is not None and line.get("reservationId") == reservation_id)
                ):
                    step = _step(line)
                    if step is not None:
                        steps.append(step)
    return steps
