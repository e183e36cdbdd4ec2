"""PostgREST's query-string grammar as the Data API stand-in reads it (devstack/gateway/rest/query.py):
what each construct means, and that no input makes the parser fail other than with an answer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devstack.gateway.rest import headers, sqlbuild
from devstack.gateway.rest.catalog import Relation
from devstack.gateway.rest.errors import ApiError, sqlstate_status
from devstack.gateway.rest.query import Condition, Field, Logic, OrderTerm, SelectItem, parse_query


def test_filters_logic_trees_order_and_paging() -> None:
    q = parse_query(
        [
            ("select", "id,who:guest->>name,n::text,data->items->0"),
            ("status", 'not.in.(dead,"a,b")'),
            ("or", "(id.gt.5,and(body.ilike.*ada*,sent_at.not.is.null))"),
            ("order", "id.desc.nullslast,body"),
            ("limit", "10"),
            ("offset", "20"),
        ]
    )
    assert q.select == [
        SelectItem(Field("id")),
        SelectItem(Field("guest", (("->>", "name"),)), alias="who"),
        SelectItem(Field("n"), cast="text"),
        SelectItem(Field("data", (("->", "items"), ("->", 0)))),
    ]
    assert q.where == [
        Condition(Field("status"), "in", True, ("dead", "a,b")),
        Logic(
            "or",
            False,
            (
                Condition(Field("id"), "gt", False, "5"),
                Logic(
                    "and",
                    False,
                    (
                        Condition(Field("body"), "ilike", False, "*ada*"),
                        Condition(Field("sent_at"), "is", True, "null"),
                    ),
                ),
            ),
        ),
    ]
    assert q.order == [OrderTerm(Field("id"), True, "last"), OrderTerm(Field("body"))]
    assert (q.limit, q.offset) == (10, 20)


def test_postgrest_syntax_the_stand_in_does_not_serve_is_refused_by_name() -> None:
    for params in (
        [("select", "id,tenants(name)"), ("tenants.reservations.id", "eq.1")],
        [("body", "fts.hello")],
        [("id", "eq(any).{1,2}")],
    ):
        with pytest.raises(ApiError) as refused:
            parse_query(params)
        assert (refused.value.status, refused.value.code) == (400, "PGRST127")
    with pytest.raises(ApiError) as aggregate:
        parse_query([("select", "count()")])
    assert aggregate.value.code == "PGRST123"
    with pytest.raises(ApiError) as embedded_filter:
        parse_query([("tenants.name", "eq.x")])
    assert embedded_filter.value.code == "PGRST108"
    with pytest.raises(ApiError) as aliased:
        parse_query([("select", "id,hotel:tenants(name)"), ("tenants.name", "eq.x")])
    assert aliased.value.hint == "Change 'tenants' to 'hotel' in filters, orders or limits."


def test_embedded_resources_with_their_own_filters_order_and_limit() -> None:
    q = parse_query(
        [
            ("select", "id,hotel:tenants!tenant_id!inner(name,properties(*))"),
            ("hotel.name", "like.Hotel*"),
            ("hotel.order", "name.desc"),
            ("hotel.limit", "3"),
        ]
    )
    embed = q.select[1].embed
    assert embed is not None
    assert (embed.name, embed.alias, embed.hint, embed.inner) == ("tenants", "hotel", "tenant_id", True)
    assert embed.select[1].embed is not None and embed.select[1].embed.name == "properties"
    assert embed.query is not None
    assert embed.query.where == [Condition(Field("name"), "like", False, "Hotel*")]
    assert embed.query.order == [OrderTerm(Field("name"), True)]
    assert embed.query.limit == 3


def test_prefer_accept_and_range_headers() -> None:
    prefs = headers.preferences(["return=representation, count=exact", "resolution=merge-duplicates"])
    assert (prefs.return_, prefs.count, prefs.resolution) == ("representation", True, "merge-duplicates")
    with pytest.raises(ApiError) as strict:
        headers.preferences(["handling=strict, return=everything"])
    assert strict.value.code == "PGRST122"
    assert headers.wants_object("application/vnd.pgrst.object+json")
    assert not headers.wants_object("application/json, */*;q=0.5")
    with pytest.raises(ApiError) as csv:
        headers.wants_object("text/csv")
    assert (csv.value.status, csv.value.code) == (406, "PGRST107")
    assert headers.range_header("5-9") == (5, 9)
    assert headers.range_header("5-") == (5, None)
    with pytest.raises(ApiError) as backwards:
        headers.range_header("9-5")
    assert (backwards.value.status, backwards.value.code) == (416, "PGRST103")


_SIGNIFICANT = st.sampled_from([*list('().,:*"\\->!&=; '), "not.", "eq.", "in.", "is.", "or", "and", "->>", "::"])
_TEXT = st.lists(st.one_of(_SIGNIFICANT, st.text(max_size=4)), max_size=12).map("".join)
_KEYS = st.one_of(
    st.sampled_from(["select", "order", "limit", "offset", "or", "and", "not.or", "columns", "id"]), _TEXT
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_KEYS, _TEXT), max_size=5))
def test_any_query_string_parses_or_gets_a_4xx_answer(params: list[tuple[str, str]]) -> None:
    try:
        q = parse_query(params)
    except ApiError as exc:
        assert 400 <= exc.status < 500
        assert exc.message
        return
    if any(item.embed is not None for item in q.select):
        return  # embeddings need the catalog's relationships first (tested through the API)
    # what parses turns into SQL (identifiers quoted, values as parameters) without failing
    rel = Relation("public", "t", ("id",), ("id",))
    statement, values = sqlbuild.read(rel, q, q.limit, q.offset, count=True)
    assert statement is not None
    assert all(isinstance(v, str | int) for v in values)


@settings(max_examples=200, deadline=None)
@given(st.lists(_TEXT, max_size=3), _TEXT, _TEXT)
def test_any_headers_parse_or_get_a_4xx_answer(prefer: list[str], accept: str, range_: str) -> None:
    for check in (
        lambda: headers.preferences(prefer),
        lambda: headers.wants_object(accept),
        lambda: headers.range_header(range_),
    ):
        try:
            check()
        except ApiError as exc:
            assert 400 <= exc.status < 500


@pytest.mark.parametrize(
    ("sqlstate", "message", "authenticated", "status"),
    [
        ("42501", "permission denied for table t", False, 401),
        ("42501", "permission denied for table t", True, 403),
        ("23505", "duplicate key", True, 409),
        ("23503", "foreign key", True, 409),
        ("23514", "check", True, 400),
        ("P0001", "raised", True, 400),
        ("P0002", "no data found", True, 500),  # PL/pgSQL's other codes are server errors to PostgREST
        ("57014", "canceling statement due to statement timeout", True, 500),
        ("25006", "cannot execute UPDATE in a read-only transaction", True, 405),
        ("42P01", "relation does not exist", True, 404),
        ("42883", "function does not exist", True, 404),
        ("22023", 'role "nobody" does not exist', True, 401),
        ("21000", "UPDATE requires a WHERE clause", True, 400),
        ("21000", "more than one row returned by a subquery", True, 500),
        ("PT402", "Payment Required", True, 402),
        ("53300", "too many connections", True, 503),
        ("22P02", "invalid input syntax", True, 400),
    ],
)
def test_sqlstates_map_to_postgrests_http_statuses(
    sqlstate: str, message: str, authenticated: bool, status: int
) -> None:
    assert sqlstate_status(sqlstate, message, authenticated=authenticated) == status
