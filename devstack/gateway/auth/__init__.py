"""Auth (/auth/v1): a stand-in for Supabase Auth (GoTrue) on the database's auth schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from devstack.gateway.app import GatewayContext


def create_app(context: GatewayContext) -> web.Application:
    from devstack.gateway.auth.routes import build

    return build(context)
