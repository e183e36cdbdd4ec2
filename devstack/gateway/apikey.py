"""The gateway's `apikey` check, as Supabase's API gateway makes it.

Every request to /auth/v1, /rest/v1 and /realtime/v1 carries a project API key in the `apikey`
header (or query parameter, as browsers' websockets must). Missing: 401 "No API key found in
request"; unknown: 401 "Invalid API key". Paths a user reaches from an e-mail link or another
service (Auth's /verify, /callback, /authorize, the JWKS) and /functions/v1 (webhooks from PMSs and
WAHA carry no Supabase key; each function checks its callers) are open, as in the CLI's gateway.

For an `sb_publishable_…` / `sb_secret_…` key the gateway does what Supabase's does: when the
request has no `Authorization` (or one that is just `Bearer sb_…`), it passes on `Authorization:
Bearer <the role's JWT>` so the services behind it see a JWT, never the opaque key.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Middleware
from multidict import CIMultiDict

from devstack.gateway.keys import ProjectKeys

OPEN_PATHS = (
    "/auth/v1/verify",
    "/auth/v1/callback",
    "/auth/v1/authorize",
    "/auth/v1/.well-known/jwks.json",
    "/functions/v1/",
    "/health",
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class ApiKey:
    """What the gateway found: the key as given and the role it stands for."""

    key: str
    role: str

    @property
    def is_secret(self) -> bool:
        return self.role == "service_role"


# What services behind the gateway read: request[APIKEY].
APIKEY = web.RequestKey("apikey", ApiKey)


def _open(path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in OPEN_PATHS)


_HINTS = {
    "No API key found in request": "No `apikey` request header or url param was found.",
    "Invalid API key": "Double check your Supabase `anon` or `service_role` API key.",
}


def refusal(message: str) -> web.Response:
    """Supabase's gateway answer: 401 with its message and hint."""
    return web.json_response({"message": message, "hint": _HINTS[message]}, status=401)


# Supabase's gateway answers browsers' CORS for every API (the dashboard runs on another origin);
# /functions/v1 is left to the functions, which answer their own, as on Supabase.
_CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Range, Range-Unit, Location, Content-Location, X-Supabase-Api-Version",
}
_CORS_METHODS = "GET, HEAD, PUT, PATCH, POST, DELETE, OPTIONS"


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/functions/v1/"):
        return await handler(request)
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        asked = request.headers.get("Access-Control-Request-Headers", "authorization, apikey, content-type")
        return web.Response(
            status=200,
            headers={
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Methods": _CORS_METHODS,
                "Access-Control-Allow-Headers": asked,
                "Access-Control-Max-Age": "3600",
            },
        )
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers.update(_CORS_HEADERS)
        raise
    if not response.prepared:
        response.headers.update(_CORS_HEADERS)
    return response


def apikey_middleware(keys: ProjectKeys) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "OPTIONS" or _open(request.path):
            return await handler(request)
        given = request.headers.get("apikey") or request.query.get("apikey")
        if not given:
            return refusal("No API key found in request")
        role = keys.role_of_api_key(given)
        if role is None:
            return refusal("Invalid API key")
        if given.startswith("sb_"):
            authorization = request.headers.get("authorization", "")
            if not authorization or authorization.startswith("Bearer sb_"):
                headers = CIMultiDict(request.headers)
                headers["Authorization"] = f"Bearer {keys.role_jwt(role)}"
                request = request.clone(headers=headers)
        request[APIKEY] = ApiKey(given, role)
        return await handler(request)

    return middleware
