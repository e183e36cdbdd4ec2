"""Structured logging: one JSON object per line, with the tracing keys of the runbook.

`requestId`, `tenantId`, `reservationId` and `jobId` are bound with `logger.contextualize` (or
`bind`) wherever they apply, so `requestId:"…" AND level:"error"` finds a request's whole story.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import TYPE_CHECKING, Any

from loguru import logger

if TYPE_CHECKING:
    from loguru import Message

TRACE_KEYS = ("requestId", "tenantId", "reservationId", "jobId")


def _json_sink(message: Message) -> None:
    record = message.record
    line: dict[str, Any] = {
        "ts": record["time"].isoformat(),
        "level": record["level"].name.lower(),
        "msg": record["message"],
        "logger": record["name"],
    }
    line.update({k: v for k, v in record["extra"].items() if v is not None})
    if record["exception"] is not None:
        exc = record["exception"]
        line["error"] = f"{exc.type.__name__ if exc.type else 'Exception'}: {exc.value}"
    sys.stderr.write(json.dumps(line, default=str) + "\n")


class _ToLoguru(logging.Handler):
    """Forwards the standard `logging` records of libraries (realtime, httpx, psycopg) to loguru,
    so every line the worker writes is the same JSON."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.bind(logger=record.name).opt(exception=record.exc_info).log(level, record.getMessage())


def configure(level: str = "INFO", as_json: bool = True) -> None:
    logging.basicConfig(handlers=[_ToLoguru()], level=logging.WARNING, force=True)
    logger.remove()
    if as_json:
        logger.add(_json_sink, level=level.upper(), enqueue=False, backtrace=False, diagnose=False)
    else:
        logger.add(sys.stderr, level=level.upper(), backtrace=False, diagnose=False)
