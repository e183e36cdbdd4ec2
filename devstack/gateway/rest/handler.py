"""The Data API's request handling: authenticate, open one transaction as PostgREST does (role
settings, `role`, `request.*` GUCs), run the statement, and shape the answer (status, body,
Content-Range, Location); any error rolls the whole transaction back."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from aiohttp import web
from psycopg import AsyncConnection, AsyncCursor, sql
from psycopg_pool import AsyncConnectionPool

from devstack.gateway.rest import catalog, headers, sqlbuild
from devstack.gateway.rest.errors import ApiError, from_postgres, not_implemented
from devstack.gateway.rest.query import Query, SelectItem, parse_query
from devstack.gateway.rest.tokens import Identity, Verifier

log = logging.getLogger(__name__)
_READ = ("GET", "HEAD")
# Role settings (`alter role ... set statement_timeout`), applied with set_config(..., true)
# before the role switch, as PostgREST applies its impersonated roles' settings.
_ROLE_SETTINGS = """
select set_config(split_part(cfg, '=', 1), substr(cfg, strpos(cfg, '=') + 1), true)
from pg_db_role_setting s cross join unnest(s.setconfig) cfg
where s.setrole = (select oid from pg_roles where rolname = %s)
  and s.setdatabase in (0, (select oid from pg_database where datname = current_database()))
"""
_REQUEST_GUCS = """
select set_config('search_path', %s, true), set_config('role', %s, true),
       set_config('request.jwt.claims', %s, true), set_config('request.method', %s, true),
       set_config('request.path', %s, true), set_config('request.headers', %s, true),
       set_config('request.cookies', %s, true)
"""


class TooLarge(Exception):
    """The body is over the size limit."""


@dataclass
class Settings:
    schemas: Sequence[str]
    extra_search_path: Sequence[str]
    max_rows: int | None
    max_body_bytes: int


@dataclass
class Outcome:
    total: int | None
    rows: int
    body: str | None


class DataApi:
    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]], verifier: Verifier, settings: Settings) -> None:
        self.pool = pool
        self.verifier = verifier
        self.settings = settings

    # ---- entry points -------------------------------------------------------------------------
    async def relation(self, request: web.Request) -> web.StreamResponse:
        return await self._answer(request, rpc=False)

    async def rpc(self, request: web.Request) -> web.StreamResponse:
        return await self._answer(request, rpc=True)

    async def root(self, request: web.Request) -> web.StreamResponse:
        return not_implemented("the OpenAPI description at the root path").response(head=request.method == "HEAD")

    async def invalid_path(self, request: web.Request) -> web.StreamResponse:
        error = ApiError(404, "PGRST125", "Invalid path specified in request URL")
        return error.response(head=request.method == "HEAD")

    async def _answer(self, request: web.Request, *, rpc: bool) -> web.StreamResponse:
        head = request.method == "HEAD"
        identity: Identity | None = None
        try:
            identity = self.verifier.identify(request.headers.get("Authorization"))
            if rpc:
                return await self._rpc(request, identity)
            return await self._relation(request, identity)
        except ApiError as exc:
            return exc.response(head=head)
        except TooLarge:
            # Supabase's gateway (Kong's request-size-limiting) answers before PostgREST sees it.
            return web.json_response({"message": "Request size limit exceeded"}, status=413)
        except psycopg.Error as exc:
            return from_postgres(exc, authenticated=bool(identity and identity.authenticated)).response(head=head)
        except Exception:
            # a defect of the stand-in, not the caller's fault: say so in PostgREST's shape
            log.exception("Data API request failed: %s %s", request.method, request.path_qs)
            return ApiError(500, "PGRSTX00", "Internal error of the local Data API").response(head=head)

    # ---- tables and views ---------------------------------------------------------------------
    async def _relation(self, request: web.Request, identity: Identity) -> web.StreamResponse:
        method = request.method
        if method == "OPTIONS":
            return web.Response(status=200, headers={"Allow": "OPTIONS,GET,HEAD,POST,PATCH,DELETE"})
        if method == "PUT":
            raise not_implemented("PUT (single-row upsert); use POST with Prefer: resolution=merge-duplicates")
        if method not in ("GET", "HEAD", "POST", "PATCH", "DELETE"):
            raise ApiError(405, "PGRST117", f"Unsupported HTTP method: {method}")
        schema = headers.profile(
            request.headers, "Accept-Profile" if method in _READ else "Content-Profile", self.settings.schemas
        )
        name = request.match_info["name"]
        single = headers.wants_object(request.headers.get("Accept"))
        prefs = headers.preferences(request.headers.getall("Prefer", []))
        q = parse_query(request.query.items())
        body = None if method in (*_READ, "DELETE") else await self._body(request)

        async with self._transaction(request, identity, schema, read_only=method in _READ) as cur:
            rel = await catalog.relation(cur, schema, name)
            await _resolve_embeds(cur, rel, q.select)
            if method in _READ:
                return await self._read(request, cur, rel, q, prefs, single)
            if q.limit is not None or q.offset:
                raise not_implemented(f"limit/offset on {method}")
            returning = prefs.return_ == "representation"
            if method == "POST":
                assert body is not None
                rows, columns = _insert_rows(body, q, rel)
                location = prefs.return_ == "headers-only"
                statement, params = sqlbuild.insert(
                    rel, q, columns, json.dumps(rows), prefs.resolution, returning or location
                )
                status = 201
            elif method == "PATCH":
                assert body is not None
                if not isinstance(body, dict):
                    raise ApiError(400, "PGRST102", "Empty or invalid json")
                # `columns` restricts which of the body's keys are written, as for inserts
                columns = q.columns if q.columns is not None else list(body)
                _check_columns(columns, rel)
                if not columns:
                    return web.Response(status=204 if not returning else 200, text=None if not returning else "[]")
                statement, params = sqlbuild.update(rel, q, columns, json.dumps(body), returning)
                location = False
                status = 200 if returning else 204
            else:
                statement, params = sqlbuild.delete(rel, q, returning)
                location = False
                status = 200 if returning else 204
            outcome = await _run(cur, statement, params, returning or location)
            if single and outcome.rows != 1:
                raise _singularity(outcome.rows)
            # a write's Content-Range has no range, and a total only when counted
            response_headers = {"Content-Range": f"*/{outcome.rows}" if prefs.count else "*/*"}
            if location:
                response_headers["Location"] = _location(rel, outcome.body)
                return web.Response(status=status, headers=response_headers)
            if not returning:
                return web.Response(status=status, headers=response_headers)
            return _json(status, _shape(outcome.body, single), response_headers, single=single)

    async def _read(
        self,
        request: web.Request,
        cur: AsyncCursor[Any],
        rel: catalog.Relation,
        q: Query,
        prefs: headers.Preferences,
        single: bool,
    ) -> web.StreamResponse:
        lower, limit = q.offset, q.limit
        requested = headers.range_header(request.headers.get("Range"))
        if requested is not None:
            r_lower, r_upper = requested
            r_limit = None if r_upper is None else r_upper - r_lower + 1
            # the header's range restricts the query string's one
            lower = max(lower, q.offset + r_lower) if q.offset else r_lower
            limit = r_limit if limit is None else (limit if r_limit is None else min(limit, r_limit))
        if self.settings.max_rows is not None:
            limit = self.settings.max_rows if limit is None else min(limit, self.settings.max_rows)
        statement, params = sqlbuild.read(rel, q, limit, lower, prefs.count)
        outcome = await _run(cur, statement, params, True)
        if single and outcome.rows != 1:
            raise _singularity(outcome.rows)
        total = outcome.total
        if total is not None and lower > total:
            raise ApiError(
                416,
                "PGRST103",
                "Requested range not satisfiable",
                f"An offset of {lower} was requested, but there are only {total} rows.",
                headers={"Content-Range": f"*/{total}"},
            )
        shown = "*" if total is None else str(total)
        content_range = f"{lower}-{lower + outcome.rows - 1}/{shown}" if outcome.rows else f"*/{shown}"
        status = 206 if total is not None and outcome.rows < total and not single else 200
        response_headers = {"Content-Range": content_range}
        if request.method == "HEAD":
            return web.Response(status=status, headers=response_headers, content_type="application/json")
        return _json(status, _shape(outcome.body, single), response_headers, single=single)

    # ---- functions ----------------------------------------------------------------------------
    async def _rpc(self, request: web.Request, identity: Identity) -> web.StreamResponse:
        method = request.method
        if method not in ("GET", "HEAD", "POST"):
            raise ApiError(405, "PGRST101", f"Cannot use the {method} method on RPC")
        read_only = method in _READ
        schema = headers.profile(
            request.headers, "Accept-Profile" if read_only else "Content-Profile", self.settings.schemas
        )
        name = request.match_info["name"]
        single = headers.wants_object(request.headers.get("Accept"))
        prefs = headers.preferences(request.headers.getall("Prefer", []))
        # the body is read before a pooled connection is taken
        body = None if read_only else await self._body(request, allow_empty=True)
        async with self._transaction(request, identity, schema, read_only=read_only) as cur:
            candidates = await catalog.functions(cur, schema, name)
            args: dict[str, Any] | None
            if read_only:
                # GET /rpc: parameters named like the function's arguments are arguments
                params_names = frozenset(p[0] for f in candidates for p in f.params)
                q = parse_query(request.query.items(), keep=params_names)
                args = dict(q.rest)
                body_text = json.dumps(args)
            else:
                q = parse_query(request.query.items())
                body_text = json.dumps({} if body is None else body)
                args = {} if body is None else body if isinstance(body, dict) else None
            if any(item.embed is not None for item in q.select):
                raise not_implemented("embedding in the result of a function")
            fn, whole = catalog.choose(candidates, schema, name, set(args or {}), named=args is not None)
            if not whole and args is None:
                raise ApiError(400, "PGRST102", "Empty or invalid json")
            statement, params = sqlbuild.call(fn, q, args or {}, body_text, whole)
            outcome = await _run(cur, statement, params, True)
            if fn.returns_void:
                return web.Response(status=204)
            if not fn.returns_set and fn.returns_rows:
                # a single composite value: an object
                data = json.loads(outcome.body or "[]")
                text = json.dumps(data[0] if data else None)
                return _json(200, text, {})
            if single and fn.returns_set and outcome.rows != 1:
                raise _singularity(outcome.rows)
            text = _shape(outcome.body, single and fn.returns_set)
            shown = str(outcome.rows) if prefs.count else "*"
            span = f"0-{outcome.rows - 1}" if outcome.rows else "*"
            count_header = {"Content-Range": f"{span}/{shown}"} if fn.returns_set else {}
            if request.method == "HEAD":
                return web.Response(status=200, headers=count_header, content_type="application/json")
            return _json(200, text, count_header, single=single and fn.returns_set)

    # ---- plumbing -----------------------------------------------------------------------------
    async def _body(self, request: web.Request, *, allow_empty: bool = False) -> Any:
        content_type = request.headers.get("Content-Type", "application/json").split(";")[0].strip().lower()
        if content_type not in ("application/json", "application/vnd.pgrst.object+json", ""):
            raise not_implemented(f"request bodies of type {content_type}")
        limit = self.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise TooLarge
        chunks, size = [], 0
        async for chunk in request.content.iter_chunked(65536):
            size += len(chunk)
            if size > limit:
                raise TooLarge
            chunks.append(chunk)
        raw = b"".join(chunks)
        if not raw.strip():
            if allow_empty:
                return None
            raise ApiError(400, "PGRST102", "Empty or invalid json")
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "PGRST102", "Empty or invalid json") from None

    def _transaction(self, request: web.Request, identity: Identity, schema: str, *, read_only: bool) -> _Transaction:
        return _Transaction(self, request, identity, schema, read_only)


class _Transaction:
    """One pooled connection, one transaction, the request's GUCs; rolled back on any error."""

    def __init__(self, api: DataApi, request: web.Request, identity: Identity, schema: str, read_only: bool) -> None:
        self.api, self.request, self.identity, self.schema, self.read_only = api, request, identity, schema, read_only

    async def __aenter__(self) -> AsyncCursor[Any]:
        self._conn_cm = self.api.pool.connection()
        conn = await self._conn_cm.__aenter__()
        self._tx = conn.transaction()
        await self._tx.__aenter__()
        cur = conn.cursor()
        self._cur = cur
        mode = "read only" if self.read_only else "read write"
        await cur.execute(sql.SQL("set transaction isolation level read committed " + mode))
        await cur.execute(_ROLE_SETTINGS, (self.identity.role,))
        search_path = ", ".join(
            sql.Identifier(s).as_string(conn) for s in [self.schema, *self.api.settings.extra_search_path]
        )
        request_headers = {k.lower(): v for k, v in self.request.headers.items() if k.lower() != "cookie"}
        cookies = dict(self.request.cookies)
        # the path as PostgREST sees it, without the gateway's /rest/v1 prefix
        name = self.request.match_info.get("name", "")
        path = f"/rpc/{name}" if self.request.match_info.route.name == "rpc" else f"/{name}"
        await cur.execute(
            _REQUEST_GUCS,
            (
                search_path,
                self.identity.role,
                json.dumps(self.identity.claims),
                self.request.method,
                path,
                json.dumps(request_headers),
                json.dumps(cookies),
            ),
        )
        return cur

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        try:
            await self._tx.__aexit__(exc_type, exc, tb)
        finally:
            await self._conn_cm.__aexit__(exc_type, exc, tb)


async def _run(cur: AsyncCursor[Any], statement: sql.Composable, params: list[Any], returning: bool) -> Outcome:
    await cur.execute(sql.Composed([statement]), params)
    if not returning:
        return Outcome(None, max(cur.rowcount, 0), None)
    row = await cur.fetchone()
    assert row is not None
    return Outcome(row[0], int(row[1]), row[2])


async def _resolve_embeds(cur: AsyncCursor[Any], parent: catalog.Relation, items: list[SelectItem]) -> None:
    """Find each embedded resource's relationship, depth first."""
    for item in items:
        if item.embed is not None:
            item.embed.target = await catalog.relationship(cur, parent, item.embed.name, item.embed.hint)
            await _resolve_embeds(cur, item.embed.target.child, item.embed.select)


def _singularity(rows: int) -> ApiError:
    return ApiError(
        406, "PGRST116", "Cannot coerce the result to a single JSON object", f"The result contains {rows} rows"
    )


def _shape(body: str | None, single: bool) -> str:
    if not single:
        return body or "[]"
    data = json.loads(body or "[]")
    return json.dumps(data[0])


def _json(status: int, text: str, extra: dict[str, str], *, single: bool = False) -> web.Response:
    content_type = headers.OBJECT if single else headers.JSON
    return web.Response(status=status, text=text, content_type=content_type, headers=extra)


def _check_columns(keys: Any, rel: catalog.Relation) -> None:
    for key in keys:
        if key not in rel.columns:
            raise ApiError(400, "PGRST204", f"Could not find the '{key}' column of '{rel.name}' in the schema cache")


def _insert_rows(body: Any, q: Query, rel: catalog.Relation) -> tuple[list[Any], list[str]]:
    rows = body if isinstance(body, list) else [body]
    if not all(isinstance(r, dict) for r in rows):
        raise ApiError(400, "PGRST102", "Empty or invalid json")
    if q.columns is not None:
        columns = q.columns
    elif rows:
        columns = list(rows[0])
        if any(set(r) != set(columns) for r in rows[1:]):
            raise ApiError(400, "PGRST102", "All object keys must match")
    else:
        columns = []
    _check_columns(columns, rel)
    return rows, columns


def _location(rel: catalog.Relation, body: str | None) -> str:
    data = json.loads(body or "[]")
    if not data or not rel.primary_key:
        return f"/{rel.name}"
    first = data[0]
    filters = "&".join(f"{k}=eq.{first.get(k)}" for k in rel.primary_key)
    return f"/{rel.name}?{filters}"
