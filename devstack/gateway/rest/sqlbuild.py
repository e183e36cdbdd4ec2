"""SQL for each kind of request, shaped like PostgREST's (a `pgrst_source` CTE, then one row with
the page's count and its JSON body). Identifiers go through psycopg.sql; values are parameters."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from psycopg import sql

from devstack.gateway.rest.catalog import Function, Relation, Relationship
from devstack.gateway.rest.errors import not_implemented
from devstack.gateway.rest.query import (
    COMPARISONS,
    IS_VALUES,
    Condition,
    Embed,
    Field,
    Logic,
    OrderTerm,
    Query,
    SelectItem,
)

Params = list[Any]
SOURCE = sql.Identifier("pgrst_source")


def qualified(schema: str, name: str) -> sql.Composable:
    return sql.Identifier(schema, name)


def field_sql(f: Field, rel: sql.Composable, params: Params) -> sql.Composable:
    expr: sql.Composable = sql.SQL("{}.{}").format(rel, sql.Identifier(f.name))
    for arrow, key in f.path:
        params.append(key)
        cast = "int" if isinstance(key, int) else "text"
        expr = sql.SQL("{} " + arrow + " %s::" + cast).format(expr)
    return expr


def condition_sql(c: Condition | Logic, rel: sql.Composable, params: Params) -> sql.Composable:
    if isinstance(c, Logic):
        joined = sql.SQL(f" {c.op} ").join(condition_sql(child, rel, params) for child in c.children)
        expr: sql.Composable = sql.SQL("({})").format(joined)
    else:
        column = field_sql(c.field, rel, params)
        if c.op == "in":
            values = c.value if isinstance(c.value, tuple) else (c.value,)
            if values:
                params.extend(values)
                expr = sql.SQL("{} in ({})").format(column, sql.SQL(", ").join([sql.SQL("%s")] * len(values)))
            else:
                expr = sql.SQL("false")
        elif c.op == "is":
            expr = sql.SQL("{} is " + IS_VALUES[str(c.value)]).format(column)
        else:
            value = str(c.value)
            if c.op in ("like", "ilike"):
                value = value.replace("*", "%")
            params.append(value)
            expr = sql.SQL("{} " + COMPARISONS[c.op] + " %s").format(column)
    return sql.SQL("not ({})").format(expr) if c.negated else expr


def where_sql(conditions: Sequence[Condition | Logic], rel: sql.Composable, params: Params) -> sql.Composable:
    if not conditions:
        return sql.SQL("")
    return sql.SQL(" where ") + sql.SQL(" and ").join(condition_sql(c, rel, params) for c in conditions)


def select_sql(items: Sequence[SelectItem], rel: sql.Composable, params: Params, depth: int = 0) -> sql.Composable:
    parts: list[sql.Composable] = []
    for n, item in enumerate(items):
        if item.embed is not None:
            embedded = _embed_sql(item.embed, rel, params, depth, n)
            if embedded is not None:
                parts.append(embedded)
            continue
        if item.field is None:
            parts.append(sql.SQL("{}.*").format(rel))
            continue
        expr = field_sql(item.field, rel, params)
        if item.cast:
            # the cast's type name was checked against a plain-identifier pattern by the parser
            expr = sql.SQL("cast({} as " + item.cast + ")").format(expr)
        parts.append(sql.SQL("{} as {}").format(expr, sql.Identifier(item.alias or item.field.output_name)))
    if not parts:
        # only empty embeddings (`rel()`, for filtering): rows with no columns
        return sql.SQL("")
    return sql.SQL(", ").join(parts)


def _embed_conditions(
    embed: Embed, parent: sql.Composable, child: sql.Composable, params: Params
) -> list[sql.Composable]:
    """How the child rows of `embed` hang on the parent row, with the embed's own filters."""
    target: Relationship = embed.target
    conditions: list[sql.Composable] = [
        sql.SQL("{}.{} = {}.{}").format(child, sql.Identifier(c), parent, sql.Identifier(p)) for p, c in target.pairs
    ]
    if embed.query is not None:
        conditions += [condition_sql(c, child, params) for c in embed.query.where]
    conditions += inner_conditions(embed.select, child, params)
    return conditions


def inner_conditions(
    items: Sequence[SelectItem], rel: sql.Composable, params: Params, depth: int = 0
) -> list[sql.Composable]:
    """`rel!inner(...)`: only rows with at least one related row (after the embed's filters)."""
    found: list[sql.Composable] = []
    for n, item in enumerate(items):
        embed = item.embed
        if embed is None or not embed.inner:
            continue
        target: Relationship = embed.target
        child = sql.Identifier(f"pgrst_inner_{depth}_{n}")
        conditions = _embed_conditions(embed, rel, child, params)
        found.append(
            sql.SQL("exists (select 1 from {} as {} where {})").format(
                qualified(target.child.schema, target.child.name), child, sql.SQL(" and ").join(conditions)
            )
        )
    return found


def _spread_sql(embed: Embed, parent: sql.Composable, params: Params, depth: int, n: int) -> sql.Composable:
    """`...relation(cols)` on a to-one relationship: each column a scalar subquery of the parent row."""
    target: Relationship = embed.target
    if not target.to_one:
        raise not_implemented(f"spreading a to-many relationship ({embed.name})")
    child = sql.Identifier(f"pgrst_{depth}_{n}")
    parts: list[sql.Composable] = []
    for item in embed.select:
        if item.embed is not None:
            raise not_implemented(f"embedding inside a spread ({embed.name})")
        fields = [SelectItem(Field(c)) for c in target.child.columns] if item.field is None else [item]
        for one in fields:
            assert one.field is not None
            expr = field_sql(one.field, child, params)
            if one.cast:
                expr = sql.SQL("cast({} as " + one.cast + ")").format(expr)
            conditions = _embed_conditions(embed, parent, child, params)
            parts.append(
                sql.SQL("(select {} from {} as {} where {} limit 1) as {}").format(
                    expr,
                    qualified(target.child.schema, target.child.name),
                    child,
                    sql.SQL(" and ").join(conditions),
                    sql.Identifier(one.alias or one.field.output_name),
                )
            )
    return sql.SQL(", ").join(parts)


def _embed_sql(embed: Embed, parent: sql.Composable, params: Params, depth: int, n: int) -> sql.Composable | None:
    if not embed.select:
        return None
    if embed.spread:
        return _spread_sql(embed, parent, params, depth, n)
    target: Relationship = embed.target
    child = sql.Identifier(f"pgrst_{depth}_{n}")
    columns = select_sql(embed.select, child, params, depth + 1)
    conditions = _embed_conditions(embed, parent, child, params)
    sub = embed.query
    order = order_sql(sub.order, child, params) if sub is not None else sql.SQL("")
    page = page_sql(sub.limit, sub.offset) if sub is not None else sql.SQL("")
    source = sql.SQL("select {} from {} as {} where {}").format(
        columns, qualified(target.child.schema, target.child.name), child, sql.SQL(" and ").join(conditions)
    )
    if target.to_one:
        shaped = "(select row_to_json(_pgrst_e) from ({}{}{}) _pgrst_e limit 1)"
    else:
        shaped = "(select coalesce(json_agg(_pgrst_e), '[]') from ({}{}{}) _pgrst_e)"
    return sql.SQL(shaped + " as {}").format(source, order, page, sql.Identifier(embed.key))


def order_sql(terms: Sequence[OrderTerm], rel: sql.Composable, params: Params) -> sql.Composable:
    if not terms:
        return sql.SQL("")
    parts = []
    for t in terms:
        text = " desc" if t.descending else " asc"
        if t.nulls:
            text += f" nulls {t.nulls}"
        parts.append(field_sql(t.field, rel, params) + sql.SQL(text))
    return sql.SQL(" order by ") + sql.SQL(", ").join(parts)


def page_sql(limit: int | None, offset: int) -> sql.Composable:
    text = ""
    if limit is not None:
        text += f" limit {int(limit)}"
    if offset:
        text += f" offset {int(offset)}"
    return sql.SQL(text)


def _wrap(source: sql.Composable, q: Query, total: sql.Composable | None, projection_params: Params) -> sql.Composable:
    """The outer select over `pgrst_source`: total count, page count, JSON body. Parameters in text
    order: the source's, the total's, then the projection's (appended to `projection_params`)."""
    projection = select_sql(q.select, SOURCE, projection_params)
    count = total if total is not None else sql.SQL("null::bigint")
    return sql.SQL(
        "with pgrst_source as ({source}) "
        "select {count} as total, count(_pgrst_t) as page_total, coalesce(json_agg(_pgrst_t), '[]')::text as body "
        "from (select {projection} from pgrst_source) _pgrst_t"
    ).format(source=source, count=count, projection=projection)


def _where_with_inner(q: Query, target: sql.Composable, params: Params) -> sql.Composable:
    conditions = [condition_sql(c, target, params) for c in q.where]
    conditions += inner_conditions(q.select, target, params)
    if not conditions:
        return sql.SQL("")
    return sql.SQL(" where ") + sql.SQL(" and ").join(conditions)


def source_columns(items: Sequence[SelectItem], target: sql.Composable) -> sql.Composable:
    """The columns a read takes from its table: only those the select names (and the ones its
    embeddings join on), as PostgREST does, so column-level grants hold (a column the role may
    not read fails only when asked for); `*` takes them all."""
    names: list[str] = []
    for item in items:
        if item.embed is not None:
            names += [parent for parent, _ in item.embed.target.pairs]
        elif item.field is None:
            return sql.SQL("{}.*").format(target)
        else:
            names.append(item.field.name)
    unique = list(dict.fromkeys(names))
    return sql.SQL(", ").join(sql.SQL("{}.{}").format(target, sql.Identifier(n)) for n in unique)


def read(rel: Relation, q: Query, limit: int | None, offset: int, count: bool) -> tuple[sql.Composable, Params]:
    target = qualified(rel.schema, rel.name)
    total_params: Params = []
    total = None
    if count:
        total = sql.SQL("(select count(*) from {}{})").format(target, _where_with_inner(q, target, total_params))
    params: Params = []
    source = sql.SQL("select {columns} from {target}{where}{order}{page}").format(
        columns=source_columns(q.select, target),
        target=target,
        where=_where_with_inner(q, target, params),
        order=order_sql(q.order, target, params),
        page=page_sql(limit, offset),
    )
    # the source's parameters come before the projection's
    outer: Params = []
    statement = _wrap(source, q, total, outer)
    return statement, params + total_params + outer


def insert(
    rel: Relation, q: Query, columns: Sequence[str], body: str, resolution: str | None, returning: bool
) -> tuple[sql.Composable, Params]:
    target = qualified(rel.schema, rel.name)
    names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    if columns:
        head = sql.SQL("insert into {t} ({names}) select {names} from json_populate_recordset(null::{t}, %s::json)")
    else:
        head = sql.SQL("insert into {t} select from json_array_elements(%s::json)")
    statement = head.format(t=target, names=names)
    if resolution is not None:
        conflict = q.on_conflict or list(rel.primary_key)
        if not conflict:
            raise not_implemented(f"an upsert on {rel.name}, which has no primary key, without on_conflict")
        keys = sql.SQL(", ").join(sql.Identifier(c) for c in conflict)
        updates = [c for c in columns if c not in conflict]
        if resolution == "ignore-duplicates" or not updates:
            statement += sql.SQL(" on conflict ({}) do nothing").format(keys)
        else:
            sets = sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(sql.Identifier(c)) for c in updates)
            statement += sql.SQL(" on conflict ({}) do update set {}").format(keys, sets)
    return _write(statement, target, q, [body], returning)


def update(
    rel: Relation, q: Query, columns: Sequence[str], body: str, returning: bool
) -> tuple[sql.Composable, Params]:
    target = qualified(rel.schema, rel.name)
    sets = sql.SQL(", ").join(sql.SQL("{0} = _pgrst_body.{0}").format(sql.Identifier(c)) for c in columns)
    params: Params = [body]
    statement = sql.SQL(
        "update {t} set {sets} from (select * from json_populate_record(null::{t}, %s::json)) _pgrst_body{where}"
    ).format(t=target, sets=sets, where=where_sql(q.where, target, params))
    return _write(statement, target, q, params, returning)


def delete(rel: Relation, q: Query, returning: bool) -> tuple[sql.Composable, Params]:
    target = qualified(rel.schema, rel.name)
    params: Params = []
    statement = sql.SQL("delete from {t}{where}").format(t=target, where=where_sql(q.where, target, params))
    return _write(statement, target, q, params, returning)


def _write(
    statement: sql.Composable, target: sql.Composable, q: Query, params: Params, returning: bool
) -> tuple[sql.Composable, Params]:
    """Without a representation the write has no RETURNING, so a role with INSERT but not SELECT
    rights can write, as with PostgREST's return=minimal."""
    if not returning:
        return statement, params
    outer: Params = []
    wrapped = _wrap(statement + sql.SQL(" returning {}.*").format(target), q, None, outer)
    return wrapped, params + outer


def call(fn: Function, q: Query, args: dict[str, Any], body: str, whole_body: bool) -> tuple[sql.Composable, Params]:
    """`select ... from json_to_record($1) as _pgrst_args(typed params), lateral fn(name := ...)`,
    as PostgREST calls functions: JSON values become the parameters' declared types."""
    target = qualified(fn.schema, fn.name)
    params: Params = []
    from_items: list[sql.Composable] = []
    if whole_body:
        params.append(body)
        call_expr: sql.Composable = sql.SQL("{}(%s::" + fn.params[0][1] + ")").format(target)
    else:
        given = [(name, typ) for name, typ, _ in fn.params if name in args]
        if given:
            params.append(json.dumps({name: args[name] for name, _ in given}))
            record = sql.SQL(", ").join(sql.SQL("{} " + typ).format(sql.Identifier(name)) for name, typ in given)
            from_items.append(sql.SQL("json_to_record(%s::json) as _pgrst_args({})").format(record))
        named = sql.SQL(", ").join(sql.SQL("{0} := _pgrst_args.{0}").format(sql.Identifier(n)) for n, _ in given)
        call_expr = sql.SQL("{}({})").format(target, named)
    if fn.returns_void or (not fn.returns_set and not fn.returns_rows):
        from_clause = sql.SQL(" from ") + sql.SQL(", ").join(from_items) if from_items else sql.SQL("")
        statement = sql.SQL("select null::bigint, 1, coalesce(to_json({})::text, 'null'){}").format(
            call_expr, from_clause
        )
        return statement, params
    if not fn.returns_rows:
        from_items.append(sql.SQL("lateral {} as pgrst_call(pgrst_scalar)").format(call_expr))
        statement = sql.SQL(
            "select null::bigint, count(*), coalesce(json_agg(pgrst_call.pgrst_scalar), '[]')::text from {}"
        ).format(sql.SQL(", ").join(from_items))
        return statement, params
    call_ref = sql.Identifier("pgrst_call")
    from_items.append(sql.SQL("lateral {} as pgrst_call").format(call_expr))
    source = sql.SQL("select pgrst_call.* from {from_}{where}{order}{page}").format(
        from_=sql.SQL(", ").join(from_items),
        where=where_sql(q.where, call_ref, params),
        order=order_sql(q.order, call_ref, params),
        page=page_sql(q.limit, q.offset),
    )
    outer: Params = []
    wrapped = _wrap(source, q, None, outer)
    return wrapped, params + outer
