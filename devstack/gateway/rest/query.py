"""PostgREST's query-string grammar (ApiRequest/QueryParams.hs) for the subset the stand-in serves:
`select` (columns, aliases, casts, JSON paths), horizontal filters, `or`/`and` trees, `order`,
`limit`/`offset`, `columns` and `on_conflict`. Whatever PostgREST accepts but the stand-in does not
serve (embedding, aggregates, full-text search, operator modifiers) fails with PGRST127, so
nothing is silently ignored; whatever PostgREST itself rejects fails with PGRST100.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from devstack.gateway.rest.errors import ApiError, not_implemented, parse_error

# Operators and the SQL they become; `in` and `is` are handled apart.
COMPARISONS = {
    "eq": "=",
    "neq": "<>",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "like": "like",
    "ilike": "ilike",
    "match": "~",
    "imatch": "~*",
    "cs": "@>",
    "cd": "<@",
    "ov": "&&",
    "isdistinct": "is distinct from",
}
# PostgREST operators this stand-in does not serve.
UNSERVED = {"fts", "plfts", "phfts", "wfts", "sl", "sr", "nxr", "nxl", "adj"}
IS_VALUES = {"null": "null", "not_null": "not null", "true": "true", "false": "false", "unknown": "unknown"}
RESERVED = {"select", "order", "limit", "offset", "columns", "on_conflict", "or", "and", "not.or", "not.and"}

_NAME = re.compile(r'"(?:[^"\\]|\\.)*"|[^",.:()\-> ]+')
_ARROW = re.compile(r"->>|->")
_CAST = re.compile(r"[A-Za-z_][A-Za-z0-9_ ]*(\[\])?")


@dataclass(frozen=True)
class Field:
    name: str
    # JSON path steps: ("->" | "->>", key or array index)
    path: tuple[tuple[str, str | int], ...] = ()

    @property
    def output_name(self) -> str:
        """The key PostgREST gives a selected JSON path: its last key."""
        if not self.path:
            return self.name
        last = self.path[-1][1]
        return last if isinstance(last, str) else self.name


@dataclass(frozen=True)
class SelectItem:
    field: Field | None  # None is `*` (or an embedding)
    alias: str | None = None
    cast: str | None = None
    embed: Embed | None = None


@dataclass(eq=False)
class Embed:
    """`alias:relation!hint!inner(select)`: a related table's rows along a foreign key."""

    name: str
    alias: str | None
    hint: str | None
    inner: bool
    select: list[SelectItem]
    # `...relation(cols)`: the related row's columns go into the parent object
    spread: bool = False
    # `relation.column=...`, `relation.order=...`, `relation.limit=...` from the query string
    query: Query | None = None
    # the relationship, once the handler has found it in the catalog
    target: Any = None

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass(frozen=True)
class Condition:
    field: Field
    op: str
    negated: bool
    value: str | tuple[str, ...]


@dataclass(frozen=True)
class Logic:
    op: Literal["and", "or"]
    negated: bool
    children: tuple[Condition | Logic, ...]


@dataclass(frozen=True)
class OrderTerm:
    field: Field
    descending: bool = False
    nulls: Literal["first", "last"] | None = None


@dataclass
class Query:
    select: list[SelectItem] = field(default_factory=lambda: [SelectItem(None)])
    where: list[Condition | Logic] = field(default_factory=list)
    order: list[OrderTerm] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0
    columns: list[str] | None = None
    on_conflict: list[str] | None = None
    # query-string parameters left for the caller (function arguments of GET /rpc)
    rest: dict[str, str] = field(default_factory=dict)


def _unquote(name: str) -> str:
    if name.startswith('"'):
        return re.sub(r"\\(.)", r"\1", name[1:-1])
    return name


def parse_field(text: str, what: str) -> Field:
    """`col`, `"a col"`, `data->a->>b`, `arr->0`."""
    m = _NAME.match(text)
    if not m or not m.group(0):
        raise parse_error(what, text, f'unexpected "{text[:1]}" expecting field name (* or [a..z0..9_$])')
    name = _unquote(m.group(0))
    pos = m.end()
    path: list[tuple[str, str | int]] = []
    while pos < len(text):
        arrow = _ARROW.match(text, pos)
        if not arrow:
            raise parse_error(what, text, f'unexpected "{text[pos]}" expecting "->" or end of input')
        key = re.compile(r'"(?:[^"\\]|\\.)*"|-?\d+|[^",.:()\-> ]+').match(text, arrow.end())
        if not key or not key.group(0):
            raise parse_error(what, text, "expecting a JSON key after " + arrow.group(0))
        raw = key.group(0)
        path.append((arrow.group(0), int(raw) if re.fullmatch(r"-?\d+", raw) else _unquote(raw)))
        pos = key.end()
    return Field(name, tuple(path))


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split at `sep` outside parentheses and double quotes."""
    parts, depth, quoted, start, i = [], 0, False, 0, 0
    while i < len(text):
        c = text[i]
        if c == "\\" and quoted:
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif not quoted and c == "(":
            depth += 1
        elif not quoted and c == ")":
            depth -= 1
        elif not quoted and depth == 0 and c == sep:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def parse_select(text: str) -> list[SelectItem]:
    items: list[SelectItem] = []
    for raw in split_top(text):
        item = raw.strip()
        if not item:
            raise parse_error("select parameter", text, "empty select item")
        if re.fullmatch(r"(\w+:)?(count\(\)|[^()]*\.(count|sum|avg|max|min)\(\))(::\w+)?", item):
            # Supabase keeps PostgREST's db-aggregates-enabled off
            raise ApiError(400, "PGRST123", "Use of aggregate functions is not allowed")
        if item.startswith("...") and "(" in item:
            spread = _parse_embed(item[3:], text)
            assert spread.embed is not None
            spread.embed.spread = True
            items.append(spread)
            continue
        if "(" in item:
            items.append(_parse_embed(item, text))
            continue
        if item == "*":
            items.append(SelectItem(None))
            continue
        alias = None
        head, colon, tail = item.partition(":")
        if colon and not tail.startswith(":"):
            alias, item = _unquote(head), tail
        cast = None
        if "::" in item:
            item, cast = item.split("::", 1)
            if not _CAST.fullmatch(cast):
                raise parse_error("select parameter", text, f"invalid cast ::{cast}")
        items.append(SelectItem(parse_field(item, "select parameter"), alias, cast))
    return items


_EMBED = re.compile(r"(?:([\w$]+):)?([\w$]+)((?:![\w$]+)*)\((.*)\)", re.DOTALL)


def _parse_embed(item: str, text: str) -> SelectItem:
    m = _EMBED.fullmatch(item)
    if not m:
        raise parse_error("select parameter", text, f"unexpected embedding syntax in {item}")
    alias, name, modifiers, inner_select = m.groups()
    hint, inner = None, False
    for modifier in [x for x in modifiers.split("!") if x]:
        if modifier in ("inner", "left"):
            inner = modifier == "inner"
        elif hint is None:
            hint = modifier
        else:
            raise parse_error("select parameter", text, f"more than one hint in {item}")
    select = parse_select(inner_select) if inner_select.strip() else []
    return SelectItem(None, embed=Embed(name, alias, hint, inner, select))


def _parse_list(text: str, whole: str) -> tuple[str, ...]:
    if not (text.startswith("(") and text.endswith(")")):
        raise parse_error("filter", whole, 'expecting "(" and ")" around the list of values')
    inner = text[1:-1]
    if inner == "":
        return ()
    return tuple(_unquote(v) if v.startswith('"') else v for v in split_top(inner))


def parse_condition(name: str, expr: str, *, in_tree: bool = False) -> Condition:
    """`op.value` or `not.op.value` for the column `name`."""
    whole = f"{name}.{expr}" if in_tree else expr
    negated = False
    if expr.startswith("not."):
        negated, expr = True, expr[4:]
    op, dot, value = expr.partition(".")
    if "(" in op and op.split("(")[0] in COMPARISONS:
        raise not_implemented(f"the operator modifier {op} (any/all)")
    if not dot:
        raise parse_error("filter", whole, f'unexpected "{expr}" expecting operator (eq, gt, ...)')
    fld = parse_field(name, "filter")
    if in_tree and value.startswith('"') and value.endswith('"') and len(value) >= 2:
        value = _unquote(value)
    if op == "in":
        return Condition(fld, "in", negated, _parse_list(value, whole))
    if op == "is":
        if value.lower() not in IS_VALUES:
            raise parse_error("filter", whole, 'expecting "null", "not_null", "true", "false" or "unknown"')
        return Condition(fld, "is", negated, value.lower())
    if op in COMPARISONS:
        return Condition(fld, op, negated, value)
    if op in UNSERVED:
        raise not_implemented(f"the {op} operator")
    raise parse_error("filter", whole, f'unknown operator "{op}"')


_MAX_DEPTH = 32


def parse_logic(key: str, value: str, depth: int = 0) -> Logic:
    if depth > _MAX_DEPTH:
        raise parse_error("logic tree", value, f"more than {_MAX_DEPTH} nested and/or groups")
    negated = key.startswith("not.")
    op = key[4:] if negated else key
    if op not in ("and", "or"):
        raise parse_error("logic tree", f"{key}={value}", "expecting and/or")
    if not (value.startswith("(") and value.endswith(")")) or len(value) < 2:
        raise parse_error("logic tree", value, 'expecting "(" ... ")"')
    children: list[Condition | Logic] = []
    for part in split_top(value[1:-1]):
        part = part.strip()
        m = re.match(r"(not\.)?(and|or)\(", part)
        if m:
            children.append(parse_logic(part[: m.end() - 1], part[m.end() - 1 :], depth + 1))
            continue
        name, dot, rest = part.partition(".")
        if not dot or not name:
            raise parse_error("logic tree", value, f'unexpected "{part}" expecting a filter')
        children.append(parse_condition(name, rest, in_tree=True))
    if not children:
        raise parse_error("logic tree", value, "expecting at least one filter")
    return Logic("and" if op == "and" else "or", negated, tuple(children))


def parse_order(text: str) -> list[OrderTerm]:
    terms = []
    for raw in split_top(text):
        if "(" in raw:
            raise not_implemented(f"ordering by an embedded resource ({raw})")
        pieces = raw.split(".")
        fld = parse_field(pieces[0], "order")
        descending, nulls = False, None
        for mod in pieces[1:]:
            if mod in ("asc", "desc") and nulls is None:
                descending = mod == "desc"
            elif mod in ("nullsfirst", "nullslast"):
                nulls = "first" if mod == "nullsfirst" else "last"
            else:
                raise parse_error(
                    "order", text, f'unexpected "{mod}" expecting "asc", "desc", "nullsfirst" or "nullslast"'
                )
        terms.append(OrderTerm(fld, descending, nulls))  # type: ignore[arg-type]
    return terms


def _non_negative(name: str, value: str) -> int:
    if not re.fullmatch(r"\d+", value):
        if re.fullmatch(r"-\d+", value):
            raise ApiError(
                416, "PGRST103", "Requested range not satisfiable", "Limit should be greater than or equal to zero."
            )
        raise parse_error(f"{name} parameter", value, "expecting a non-negative integer")
    return int(value)


def parse_columns(text: str) -> list[str]:
    return [_unquote(c.strip()) for c in split_top(text) if c.strip()]


def parse_query(params: Iterable[tuple[str, str]], *, keep: frozenset[str] = frozenset()) -> Query:
    """The whole query string; names in `keep` (GET /rpc arguments) are left in `rest`."""
    q = Query()
    embedded: dict[str, Query] = {}
    for key, value in params:
        if key in keep:
            q.rest[key] = value
        elif key == "select":
            q.select = parse_select(value)
        elif key == "order":
            q.order = parse_order(value)
        elif key == "limit":
            q.limit = _non_negative("limit", value)
        elif key == "offset":
            q.offset = _non_negative("offset", value)
        elif key == "columns":
            q.columns = parse_columns(value)
        elif key == "on_conflict":
            q.on_conflict = parse_columns(value)
        elif key in ("or", "and", "not.or", "not.and"):
            q.where.append(parse_logic(key, value))
        elif "." in key and not key.startswith('"'):
            resource, _, rest = key.partition(".")
            _embedded_param(embedded.setdefault(resource, Query(select=[])), rest, value)
        else:
            q.where.append(parse_condition(key, value))
    _attach(q.select, embedded)
    return q


def _embedded_param(sub: Query, rest: str, value: str) -> None:
    """`relation.<rest>=value`: a filter, tree, order or page of an embedded resource."""
    if rest in ("or", "and", "not.or", "not.and"):
        sub.where.append(parse_logic(rest, value))
    elif rest == "order":
        sub.order = parse_order(value)
    elif rest == "limit":
        sub.limit = _non_negative("limit", value)
    elif rest == "offset":
        sub.offset = _non_negative("offset", value)
    elif "." in rest or rest == "select":
        raise not_implemented(f"parameters of nested embedded resources ({rest})")
    else:
        sub.where.append(parse_condition(rest, value))


def _attach(items: list[SelectItem], embedded: dict[str, Query]) -> None:
    by_key = {i.embed.key: i.embed for i in items if i.embed is not None}
    for resource, sub in embedded.items():
        embed = by_key.get(resource)
        if embed is None:
            aliased = next((e for e in by_key.values() if e.alias and e.name == resource), None)
            raise ApiError(
                400,
                "PGRST108",
                f"'{resource}' is not an embedded resource in this request",
                "Target names are not allowed in filters if they have an alias" if aliased else None,
                f"Change '{resource}' to '{aliased.alias}' in filters, orders or limits."
                if aliased
                else f"Verify that '{resource}' is included in the 'select' query parameter.",
            )
        embed.query = sub
