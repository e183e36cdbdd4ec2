"""Auth's error answers, shaped as GoTrue shapes them (internal/api/errors.go).

Clients that send `X-Supabase-Api-Version: 2024-01-01` or later (supabase-js and supabase-py do)
get `{"code": <error code>, "message": ...}` and the version echoed back; others get the initial
shape `{"code": <status>, "error_code": ..., "msg": ...}`. Both carry `x-sb-error-code`. OAuth
errors (a token request without its required field) are `{"error", "error_description"}`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

API_VERSION_HEADER = "X-Supabase-Api-Version"
API_VERSION_2024 = "2024-01-01"


class AuthError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


class OAuthError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def bad_request(code: str, message: str) -> AuthError:
    return AuthError(400, code, message)


def forbidden(code: str, message: str) -> AuthError:
    return AuthError(403, code, message)


def unprocessable(code: str, message: str) -> AuthError:
    return AuthError(422, code, message)


def api_version(request: web.Request) -> str | None:
    """The date-shaped API version the client asked for, if it is one GoTrue knows."""
    asked = request.headers.get(API_VERSION_HEADER, "")
    return API_VERSION_2024 if asked >= API_VERSION_2024 and len(asked) == 10 else None


def render(request: web.Request, error: AuthError | OAuthError) -> web.Response:
    if isinstance(error, OAuthError):
        return web.json_response({"error": error.error, "error_description": error.description}, status=400)
    headers = {"x-sb-error-code": error.code}
    version = api_version(request)
    body: dict[str, Any]
    if version is not None:
        headers[API_VERSION_HEADER] = version
        body = {"code": error.code, "message": error.message}
    else:
        body = {"code": error.status, "error_code": error.code, "msg": error.message}
    body.update(error.extra)
    return web.json_response(body, status=error.status, headers=headers)
