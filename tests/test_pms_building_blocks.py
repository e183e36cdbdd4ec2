"""The pieces every adapter uses: mapping, rate limits, Retry-After, pagination over a live set."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from worker.errors import ConfigurationError, PayloadError, TransientError
from worker.pms import mapping
from worker.pms.http import NotFound, RequestRejected, RetryPolicy, VendorApi, retry_after_seconds
from worker.pms.paging import Chunk, offset_pages
from worker.pms.ratelimit import Limiter, LimiterRegistry, Rate


# -- mapping -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+49 151 12345678", None, "+4915112345678"),
        ("0049 151 12345678", None, "+4915112345678"),
        ("0151 12345678", "DE", "+4915112345678"),
        ("0151 12345678", None, None),  # national, and no country to read it with
        ("(415) 734-5123", "us", "+14157345123"),
        ("+1 415 734 5123", None, "+14157345123"),
        ("not a phone", "DE", None),
        ("", "DE", None),
        (None, "DE", None),
    ],
)
def test_phones_become_e164_or_nothing(raw: Any, region: str | None, expected: str | None) -> None:
    assert mapping.phone_e164(raw, region) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [("en-US", "en"), ("de_DE", "de"), ("FR", "fr"), ("pt-BR", "pt"), ("eng", None), ("", None), (None, None)],
)
def test_languages_become_two_letters_or_nothing(code: Any, expected: str | None) -> None:
    assert mapping.language(code) == expected


@pytest.mark.parametrize(
    ("value", "timezone", "expected"),
    [
        ("2026-12-20", "Asia/Tokyo", "2026-12-20"),  # a date is already local
        ("2026-12-20T23:30:00Z", "Asia/Tokyo", "2026-12-21"),
        ("2026-12-20T23:30:00Z", "America/New_York", "2026-12-20"),
        ("2026-03-29T00:30:00Z", "Europe/Berlin", "2026-03-29"),  # the night the clocks change
        ("2026-12-20T15:00:00+01:00", "Europe/Berlin", "2026-12-20"),
        ("2026-12-20T15:00:00", "Asia/Tokyo", "2026-12-20"),  # no offset: already local
        ("2026-12-20T14:00:00.1234567Z", "UTC", "2026-12-20"),  # .NET's seven digits
    ],
)
def test_dates_are_the_propertys_calendar_days(value: str, timezone: str, expected: str) -> None:
    assert mapping.local_date(value, timezone, "arrival") == expected


def test_bad_dates_and_times_are_payload_errors() -> None:
    with pytest.raises(PayloadError, match=r"arrival '20\.12\.2026' is not an ISO 8601"):
        mapping.local_date("20.12.2026", "UTC", "arrival")
    with pytest.raises(PayloadError, match="has no UTC offset"):
        mapping.parse_instant("2026-11-26T10:00:00", "modified")
    with pytest.raises(PayloadError, match="unknown time zone"):
        mapping.local_date("2026-12-20T10:00:00Z", "Mars/Olympus", "arrival")


# -- the rate limiter ----------------------------------------------------------------------------
class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


async def test_the_limiter_spaces_requests_to_every_window() -> None:
    clock = FakeClock()
    limiter = Limiter([Rate(2, 1.0), Rate(3, 10.0)], clock=clock, sleep=clock.sleep)
    for _ in range(4):
        await limiter.acquire()
    # 2 at t=0, the 3rd waits for the 1 s window, the 4th for the 10 s window.
    assert clock.slept == [1.0, 9.0]


async def test_a_pause_holds_every_request_of_the_credential() -> None:
    clock = FakeClock()
    limiter = Limiter([Rate(100, 1.0)], clock=clock, sleep=clock.sleep)
    await limiter.acquire()
    limiter.pause(30.0)
    await limiter.acquire()
    assert clock.now == 30.0


def test_limiters_are_per_vendor_and_credential() -> None:
    registry = LimiterRegistry()
    a = registry.for_credential("mews", "token-a", [Rate(200, 30.0)])
    assert registry.for_credential("mews", "token-a", [Rate(200, 30.0)]) is a
    assert registry.for_credential("mews", "token-b", [Rate(200, 30.0)]) is not a
    assert registry.for_credential("apaleo", "token-a", [Rate(200, 30.0)]) is not a


# -- Retry-After and error mapping ---------------------------------------------------------------
def test_retry_after_is_seconds_or_an_http_date() -> None:
    now = dt.datetime(2026, 11, 26, 10, 0, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Thu, 26 Nov 2026 10:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Thu, 26 Nov 2026 09:00:00 GMT", now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def api(handler: Any) -> tuple[VendorApi, httpx.AsyncClient]:
    vendor = VendorApi(
        "acme",
        [Rate(1000, 1.0)],
        default_retry_after=0.01,
        policy=RetryPolicy(attempts=3, initial_wait=0.001, max_wait=0.002, max_retry_after=5.0),
        limiters=LimiterRegistry(),
    )
    return vendor, httpx.AsyncClient(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (401, ConfigurationError, r"acme rejected the credentials \(401\) on GET x: nope"),
        (403, ConfigurationError, r"\(403\)"),
        (404, NotFound, r"not found \(404\)"),
        (422, RequestRejected, r"rejected \(422\): nope"),
    ],
)
async def test_client_errors_are_not_retried(status: int, error: type[Exception], message: str) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(status, text="nope")

    vendor, client = api(handler)
    async with client:
        with pytest.raises(error, match=message):
            await vendor.call(client, "GET", "http://pms.test/x", credential="k", what="GET x")
    assert len(calls) == 1


async def test_server_errors_are_retried_then_reported_as_transient() -> None:
    statuses = iter([503, 500, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        return httpx.Response(status, json={"ok": True} if status == 200 else None)

    vendor, client = api(handler)
    async with client:
        assert await vendor.call(client, "GET", "http://pms.test/x", credential="k", what="GET x") == {"ok": True}

    def always_down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502)

    vendor, client = api(always_down)
    async with client:
        with pytest.raises(TransientError, match=r"answered 502.*after 3 attempts"):
            await vendor.call(client, "GET", "http://pms.test/x", credential="k", what="GET x")


async def test_a_429_is_waited_out_unless_it_asks_for_too_long() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, json=[1])])
    vendor, client = api(lambda request: next(answers))
    async with client:
        assert await vendor.call(client, "GET", "http://pms.test/x", credential="k", what="GET x") == [1]

    vendor, client = api(lambda request: httpx.Response(429, headers={"Retry-After": "3600"}))
    async with client:
        with pytest.raises(TransientError) as caught:
            await vendor.call(client, "GET", "http://pms.test/x", credential="k", what="GET x")
    assert caught.value.retry_after == 3600.0


# -- paging over a set that changes while it is read -----------------------------------------------
async def test_pages_are_read_again_when_records_leave_the_listing() -> None:
    records = list(range(10))
    asked: list[int] = []

    async def fetch(offset: int) -> Chunk:
        asked.append(offset)
        if len(asked) == 3:
            records.remove(1)  # modified meanwhile: it leaves the window, the rest move up
        return Chunk(records[offset : offset + 3], len(records))

    seen: list[int] = []
    async for items in offset_pages(fetch, 3):
        seen.extend(items)
    # Record 6 moved onto the page already read; the pager noticed the total shrink and read it.
    assert set(seen) == set(range(10))
    assert asked == [0, 3, 6, 3, 6]


async def test_a_listing_without_totals_ends_on_a_short_page() -> None:
    async def fetch(offset: int) -> Chunk:
        return Chunk(list(range(offset, min(offset + 4, 10))), None)

    pages = [items async for items in offset_pages(fetch, 4)]
    assert pages == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
