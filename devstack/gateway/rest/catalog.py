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


@dataclass(frozen=True)
class Relationship:
    """A foreign key seen from `parent`: the related table, the column pairs joining them, and
    whether the parent gets one object (many-to-one, one-to-one) or an array (one-to-many)."""

    child: Relation
    constraint: str
    # (parent column, child column)
    pairs: tuple[tuple[str, str], ...]
    to_one: bool


_RELATIONSHIPS = """
select c.conname::text, c.conrelid = p.oid as outgoing,
       array(select a.attname::text from unnest(c.conkey) with ordinality k(n, i)
             join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.i),
       array(select a.attname::text from unnest(c.confkey) with ordinality k(n, i)
             join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.i),
       exists (select 1 from pg_index i where i.indrelid = c.conrelid and i.indisunique
               and i.indkey::int2[] @> c.conkey and cardinality(i.indkey::int2[]) = cardinality(c.conkey))
from pg_class p
join pg_namespace n on n.oid = p.relnamespace
join pg_class o on o.relnamespace = n.oid and o.relname = %(child)s
join pg_constraint c on c.contype = 'f'
  and ((c.conrelid = p.oid and c.confrelid = o.oid) or (c.conrelid = o.oid and c.confrelid = p.oid))
where n.nspname = %(schema)s and p.relname = %(parent)s
order by c.conname
"""


async def relationship(cur: AsyncCursor[Any], parent: Relation, name: str, hint: str | None) -> Relationship:
    """PostgREST's choice of a relationship for `parent?select=name!hint(...)`: the foreign keys
    between the two tables in either direction, narrowed by the hint (a constraint or column
    name); none is PGRST200, several PGRST201."""
    await cur.execute(_RELATIONSHIPS, {"schema": parent.schema, "parent": parent.name, "child": name})
    found = []
    for conname, outgoing, columns, referenced, unique in await cur.fetchall():
        if hint is not None and hint != conname and hint not in columns and hint not in referenced:
            continue
        pairs = (
            tuple(zip(columns, referenced, strict=True)) if outgoing else tuple(zip(referenced, columns, strict=True))
        )
        # parent holds the foreign key: the child row is one; else the children are many unless unique
        to_one = bool(outgoing or unique)
        found.append((conname, pairs, to_one, outgoing))
    if not found:
        raise ApiError(
            400,
            "PGRST200",
            f"Could not find a relationship between '{parent.name}' and '{name}' in the schema cache",
            f"Searched for a foreign key relationship between '{parent.name}' and '{name}'"
            + (f" using the hint '{hint}'" if hint else "")
            + f" in the schema '{parent.schema}', but no matches were found.",
        )
    if len(found) > 1:
        options = ", ".join(f"'{name}!{c[0]}'" for c in found)
        raise ApiError(
            300,
            "PGRST201",
            f"Could not embed because more than one relationship was found for '{parent.name}' and '{name}'",
            "; ".join(
                f"{'many-to-one' if c[3] else 'one-to-many'} using {parent.name}({', '.join(p for p, _ in c[1])})"
                f" and {name}({', '.join(q for _, q in c[1])})"
                for c in found
            ),
            f"Try changing '{name}' to one of the following: {options}. Find the desired relationship in the"
            " 'details' key.",
        )
    conname, pairs, to_one, _ = found[0]
    child = await relation(cur, parent.schema, name)
    return Relationship(child, conname, pairs, to_one)
