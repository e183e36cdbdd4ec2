"""The Data API application, for the gateway to mount at /rest/v1."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from psycopg import AsyncConnection
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool

from devstack import paths
from devstack.gateway.rest.handler import DataApi, Settings
from devstack.gateway.rest.tokens import Verifier

if TYPE_CHECKING:
    from devstack.gateway.app import GatewayContext

# PostgREST connects as this role and switches into the request's role.
AUTHENTICATOR = "authenticator"
# Supabase's Data API has no body limit of its own; the stand-in refuses bodies past this size.
MAX_BODY_BYTES = 1024 * 1024
CONFIG_FILE = paths.SUPABASE_DIR / "config.toml"


def api_config(config_toml: Path) -> dict[str, Any]:
    """`[api]` of supabase/config.toml: schemas, extra_search_path, max_rows."""
    with config_toml.open("rb") as f:
        api = tomllib.load(f).get("api", {})
    return {
        "schemas": list(api.get("schemas", ["public"])),
        "extra_search_path": list(api.get("extra_search_path", ["public", "extensions"])),
        "max_rows": api.get("max_rows"),
    }


def create_app(
    database_url: str,
    *,
    jwt_secret: str,
    schemas: Sequence[str],
    jwks: Sequence[Mapping[str, Any]] = (),
    jwt_audience: str | None = "authenticated",
    extra_search_path: Sequence[str] = ("public", "extensions"),
    max_rows: int | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
    pool_size: int = 10,
) -> web.Application:
    """PostgREST's semantics over `database_url` (connecting as `authenticator`). Tokens are HS*
    signed with `jwt_secret` or signed by one of `jwks` (Auth's asymmetric keys, public parts)."""
    if not schemas:
        raise ValueError("at least one schema must be exposed")
    pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
        make_conninfo(database_url, user=AUTHENTICATOR, application_name="devstack-rest"),
        min_size=1,
        max_size=pool_size,
        open=False,
    )
    api = DataApi(
        pool,
        Verifier(jwt_secret, jwks=jwks, audience=jwt_audience),
        Settings(list(schemas), list(extra_search_path), max_rows, max_body_bytes),
    )

    async def lifetime(_: web.Application) -> AsyncIterator[None]:
        await pool.open(wait=True)
        yield
        await pool.close()

    app = web.Application()
    app.cleanup_ctx.append(lifetime)
    app.router.add_route("*", "/", api.root)
    app.router.add_route("*", "/rpc/{name}", api.rpc, name="rpc")
    app.router.add_route("*", "/{name}", api.relation, name="relation")
    app.router.add_route("*", "/{tail:.*}", api.invalid_path)
    return app


def from_gateway(context: GatewayContext) -> web.Application:
    """The gateway's factory (devstack/gateway/app.py's Mount): the project's keys and config.toml."""
    settings = api_config(CONFIG_FILE)
    return create_app(
        context.database_url,
        jwt_secret=context.keys.jwt_secret,
        jwks=[context.keys.public_jwk()],
        schemas=list(context.config.api_schemas),
        extra_search_path=settings["extra_search_path"],
        max_rows=context.config.api_max_rows,
    )
