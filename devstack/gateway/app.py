"""The local API gateway: one aiohttp application laid out like Supabase's.

    /auth/v1      Auth (devstack/gateway/auth), backed by the database's auth schema
    /rest/v1      the Data API (a mount added by devstack/gateway/rest; see default_mounts)
    /realtime/v1  the Realtime stand-in's websocket (devstack/simulators/realtime.py), proxied
    /functions/v1 the edge functions server (supabase/functions/serve.ts), proxied

Services are sub-applications built by factories (`Mount`): each gets the `GatewayContext` (the
database, the project's keys and config.toml's settings) and returns a web.Application. The
`apikey` middleware (apikey.py) runs before all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from devstack.gateway import proxy
from devstack.gateway.apikey import apikey_middleware, cors_middleware
from devstack.gateway.auth import create_app as create_auth_app
from devstack.gateway.config import ProjectConfig
from devstack.gateway.keys import ProjectKeys
from devstack.gateway.rest import from_gateway as rest_from_gateway


@dataclass(frozen=True)
class GatewayContext:
    """What every service behind the gateway is built from."""

    database_url: str
    keys: ProjectKeys = field(default_factory=ProjectKeys)
    config: ProjectConfig = field(default_factory=ProjectConfig.load)


SubAppFactory = Callable[[GatewayContext], web.Application]


@dataclass(frozen=True)
class Mount:
    """A service behind the gateway: its path prefix and the factory of its application."""

    prefix: str
    factory: SubAppFactory


def default_mounts() -> list[Mount]:
    """The services the gateway serves itself: Auth and the Data API."""
    return [Mount("/auth/v1", create_auth_app), Mount("/rest/v1", rest_from_gateway)]


def build_app(
    context: GatewayContext,
    mounts: list[Mount] | None = None,
    *,
    functions_url: str | None = None,
    realtime_url: str | None = None,
) -> web.Application:
    app = web.Application(middlewares=[cors_middleware, apikey_middleware(context.keys)], client_max_size=1024**2)

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app.router.add_get("/health", health)
    for mount in default_mounts() if mounts is None else mounts:
        app.add_subapp(mount.prefix, mount.factory(context))
    if realtime_url is not None:
        app.add_subapp("/realtime/v1", proxy.realtime_app(realtime_url, context.keys))
    if functions_url is not None:
        app.add_subapp("/functions/v1", proxy.functions_app(functions_url))
    return app
