"""The routes of /auth/v1."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from devstack.gateway.app import GatewayContext


def build(context: GatewayContext) -> web.Application:
    app = web.Application()
    keys = context.keys

    async def health(_: web.Request) -> web.Response:
        return web.json_response(
            {
                "version": "devstack",
                "name": "GoTrue",
                "description": "GoTrue is a user registration and authentication API",
            }
        )

    async def jwks(_: web.Request) -> web.Response:
        return web.json_response(keys.jwks())

    app.router.add_get("/health", health)
    app.router.add_get("/.well-known/jwks.json", jwks)
    return app
