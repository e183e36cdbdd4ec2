"""What PostgREST's schema cache answers, read from pg_catalog inside the request's transaction:
a relation's columns and primary key, and the candidates for an RPC call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg import AsyncCursor

from devstack.gateway.rest.errors import ApiError


@dataclass(frozen=True)
class Relation:
    schema: str
    name: str
    columns: tuple[str, ...]
    primary_key: tuple[str, ...]


@dataclass(frozen=True)
class Function:
    schema: str
    name: str
    # input parameters in order: (name, type, has_default)
    params: tuple[tuple[str, str, bool], ...]
    returns_set: bool
    returns_void: bool
    # composite rows (a table type, `returns table (...)`, OUT parameters) rather than a scalar
    returns_rows: bool


_RELATION = """
select array(select a.attname::text from pg_attribute a
             where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum),
       coalesce((select array_agg(a.attname::text order by array_position(i.indkey::int2[], a.attnum))
                 from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey::int2[])
                 where i.indrelid = c.oid and i.indisprimary), '{}')
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = %s and c.relname = %s and c.relkind in ('r', 'v', 'm', 'f', 'p')
"""

_FUNCTIONS = """
select coalesce(p.proargnames, '{}')::text[],
       coalesce(p.proargmodes::text[], array_fill('i'::text, array[p.pronargs::int])),
       array(select format_type(t, null) from unnest(p.proargtypes::oid[]) t),
       p.pronargdefaults,
       p.proretset,
       p.prorettype = 'pg_catalog.void'::regtype,
       rt.typtype = 'c' or (p.prorettype = 'pg_catalog.record'::regtype)
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_type rt on rt.oid = p.prorettype
where n.nspname = %s and p.proname = %s and p.prokind = 'f'
"""


async def relation(cur: AsyncCursor[Any], schema: str, name: str) -> Relation:
    await cur.execute(_RELATION, (schema, name))
    row = await cur.fetchone()
    if row is None:
        raise ApiError(404, "PGRST205", f"Could not find the table '{schema}.{name}' in the schema cache")
    return Relation(schema, name, tuple(row[0]), tuple(row[1]))


async def functions(cur: AsyncCursor[Any], schema: str, name: str) -> list[Function]:
    await cur.execute(_FUNCTIONS, (schema, name))
    found = []
    for names, modes, types, n_defaults, returns_set, returns_void, returns_rows in await cur.fetchall():
        inputs = [n for n, m in zip(list(names) + [""] * len(modes), modes, strict=False) if m in ("i", "b", "v")]
        inputs += [""] * (len(types) - len(inputs))
        first_default = len(types) - int(n_defaults)
        params = tuple((n, t, i >= first_default) for i, (n, t) in enumerate(zip(inputs, types, strict=True)))
        found.append(Function(schema, name, params, bool(returns_set), bool(returns_void), bool(returns_rows)))
    return found


def choose(
    candidates: list[Function], schema: str, name: str, keys: set[str], *, named: bool = True
) -> tuple[Function, bool]:
    """PostgREST's overload choice: every given key names a parameter and every parameter without a
    default is given; or one unnamed json/jsonb parameter that takes the whole body. The flag says
    the body goes whole into that single parameter."""
    matches = [
        f
        for f in (candidates if named else [])
        if keys <= {p[0] for p in f.params}
        and all(p[2] or p[0] in keys for p in f.params)
        and all(p[0] for p in f.params)
    ]
    if len(matches) == 1:
        return matches[0], False
    if len(matches) > 1:
        listing = ", ".join(
            f"{f.schema}.{f.name}(" + ", ".join(f"{p[0]} => {p[1]}" for p in f.params) + ")" for f in matches
        )
        raise ApiError(
            300,
            "PGRST203",
            f"Could not choose the best candidate function between: {listing}",
            hint="Try renaming the parameters or the function itself in the database so function overloading can be"
            " resolved",
        )
    whole = [f for f in candidates if len(f.params) == 1 and not f.params[0][0] and f.params[0][1] in ("json", "jsonb")]
    if len(whole) == 1:
        return whole[0], True
    shown = ", ".join(sorted(keys))
    detail = (
        f"Searched for the function {schema}.{name} with parameters {shown} or with a single unnamed json/jsonb"
        " parameter, but no matches were found in the schema cache."
        if keys
        else f"Searched for the function {schema}.{name} without parameters, but no matches were found in the"
        " schema cache."
    )
    raise ApiError(
        404,
        "PGRST202",
        f"Could not find the function {schema}.{name}" + (f"({shown})" if keys else "") + " in the schema cache",
        detail,
    )
