"""PostgREST's error answers: the JSON body {code, message, details, hint} and its mapping from
SQLSTATE to HTTP status (PostgREST's Error.hs, `mapSQLtoHTTP`)."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from aiohttp import web
from psycopg_pool import PoolTimeout


class ApiError(Exception):
    """An answer PostgREST gives itself (PGRST codes) or passes on from PostgreSQL."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: str | None = None,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.hint = hint
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "details": self.details, "hint": self.hint, "message": self.message}

    def response(self, *, head: bool = False) -> web.Response:
        headers = {"Proxy-Status": f"PostgREST; error={self.code}", **self.headers}
        text = None if head else json.dumps(self.body())
        return web.Response(status=self.status, text=text, content_type="application/json", headers=headers)


def parse_error(what: str, value: str, details: str) -> ApiError:
    """PGRST100: the query string could not be parsed (PostgREST's QPError)."""
    return ApiError(400, "PGRST100", f"failed to parse {what} ({value})", details)


def not_implemented(details: str) -> ApiError:
    """PGRST127: PostgREST syntax this stand-in does not implement; never silently ignored."""
    return ApiError(400, "PGRST127", "Feature not implemented", f"{details} (not implemented by the local Data API)")


def sqlstate_status(sqlstate: str, message: str, *, authenticated: bool) -> int:
    """PostgREST's mapping of PostgreSQL error codes to HTTP statuses."""
    exact = {
        "23503": 409,
        "23505": 409,
        "25006": 405,
        "53400": 500,
        "57P01": 503,
        "P0001": 400,
        "42P01": 404,
        "42P17": 500,
        "42883": 404,
    }
    if sqlstate == "42501":
        return 403 if authenticated else 401
    if sqlstate == "21000":
        return 400 if message.endswith("requires a WHERE clause") else 500
    if sqlstate == "22023":
        return 401 if message.startswith("role") and message.endswith("does not exist") else 400
    if sqlstate in exact:
        return exact[sqlstate]
    if sqlstate.startswith("PT") and sqlstate[2:].isdigit():
        return int(sqlstate[2:])
    prefixes = {
        "08": 503,
        "09": 500,
        "0L": 403,
        "0P": 403,
        "25": 500,
        "28": 403,
        "2D": 500,
        "38": 500,
        "39": 500,
        "3B": 500,
        "40": 500,
        "53": 503,
        "54": 500,
        "55": 500,
        "57": 500,
        "58": 500,
        "F0": 500,
        "HV": 500,
        "P0": 500,
        "XX": 500,
    }
    return prefixes.get(sqlstate[:2], 400)


def from_postgres(exc: psycopg.Error, *, authenticated: bool) -> ApiError:
    """A PostgreSQL error as PostgREST forwards it."""
    diag = exc.diag
    if isinstance(exc, PoolTimeout):
        return ApiError(504, "PGRST003", "Timed out acquiring connection from connection pool.")
    if diag.sqlstate is None:
        # refused by the driver before PostgreSQL saw it (a NUL character in a value, say); the
        # server would have refused it too, as an invalid byte sequence
        status = 400 if isinstance(exc, psycopg.DataError) else 503
        return ApiError(status, "22021" if status == 400 else "PGRST001", str(exc))
    sqlstate = diag.sqlstate
    message = diag.message_primary or str(exc)
    if sqlstate == "PGRST":
        return _raised_pgrst(message, diag.message_detail)
    headers = {"WWW-Authenticate": "Bearer"} if sqlstate == "42501" and not authenticated else {}
    return ApiError(
        sqlstate_status(sqlstate, message, authenticated=authenticated),
        sqlstate,
        message,
        diag.message_detail,
        diag.message_hint,
        headers,
    )


def _raised_pgrst(message: str, detail: str | None) -> ApiError:
    """`raise sqlstate 'PGRST' using message = '{json}', detail = '{status, headers}'`."""
    try:
        body = json.loads(message)
        extra = json.loads(detail or "{}")
        status = int(extra["status"])
        headers = {str(k): str(v) for k, v in dict(extra.get("headers") or {}).items()}
        return ApiError(status, str(body["code"]), str(body["message"]), body.get("details"), body.get("hint"), headers)
    except (ValueError, KeyError, TypeError, AttributeError):
        return ApiError(
            500,
            "PGRST121",
            "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error",
            message,
            "MESSAGE must be a JSON object with obligatory keys: 'code', 'message'"
            " and optional keys: 'details', 'hint'.",
        )
