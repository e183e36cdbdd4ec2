"""The dashboard's figures, each against a baseline measured in the same run.

- **initial JS**: what a browser must download before the first render, gzipped — the entry
  chunk (`<script type="module">` of index.html) and every `modulepreload` of index.html — in a
  production build; target ≤ 200 KB. Baseline: React and React DOM alone (their production
  builds in dashboard/node_modules, gzipped the same way), the floor any React app pays.
- **Today** and **the reservations list**: a hotel with `dashboard_reservations` reservations
  (10,000 in `make bench`), its owner signed in, each screen loaded `dashboard_loads` times in a
  fresh browser context (nothing cached) in Debian's Chromium via Playwright, through the local
  API (the gateway: Auth, the Data API, Realtime) against the benchmark's database. Timed from
  navigation start to what a person waits for: Today's first arrival's name on screen; the first
  row of the list's first page. Baseline: the Data API requests that screen made, captured from
  the browser and replayed with the same headers (concurrently, as the page sends them), so the
  ratio is how much the browser, the bundle and React add to the bare API.
- **Lighthouse** (npm `lighthouse`, pinned in bench/package.json; desktop preset, simulated
  throttling) on the sign-in screen and on Today, for performance and accessibility; targets
  ≥ 90 and ≥ 95. It drives the same Chromium, started by Playwright with a remote-debugging port
  (Lighthouse's `--port`), signed in through the sign-in form before Today is audited. Baseline:
  Lighthouse on a static page of a heading and a paragraph from the same server — what this
  machine and the throttling allow at best.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from playwright.async_api import Browser, Page, Request, async_playwright

from bench.common import Result, Sizes, ratio
from devstack import cluster, dashboard, paths
from devstack.errors import DevstackError

TITLE = "dashboard"
BUNDLE_TARGET_KB = 200.0
LIGHTHOUSE_TARGETS = {"performance": 90, "accessibility": 95}
BENCH_DIR = paths.ROOT / "bench"
LIGHTHOUSE = BENCH_DIR / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
PASSWORD = "benchmark owner password"  # noqa: S105 (a throwaway user of the benchmark's database)
# React's own weight: what `react` and `react-dom/client` load in production.
REACT_FILES = (
    "react/cjs/react.production.js",
    "react/cjs/react-jsx-runtime.production.js",
    "react-dom/cjs/react-dom.production.js",
    "react-dom/cjs/react-dom-client.production.js",
    "scheduler/cjs/scheduler.production.js",
)
BASELINE_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Baseline</title>'
    '<meta name="description" content="A static page"></head>'
    "<body><main><h1>Baseline</h1><p>A static page from the same server.</p></main></body></html>"
)


def run(database_url: str, run_dir: Path, sizes: Sizes) -> list[Result]:
    if not CHROMIUM.exists():
        raise DevstackError(
            f"Chromium not found at {CHROMIUM}: `make setup` as root installs it (or set CHROMIUM_PATH)"
        )
    install_lighthouse()
    print("   building the dashboard", flush=True)
    dist, port = dashboard.build_for_local_api(run_dir / "dashboard-dist")
    (dist / "lighthouse-baseline.html").write_text(BASELINE_PAGE)
    bundle = bundle_result(dist)
    with psycopg.connect(database_url, autocommit=True) as conn:
        hotel = seed_hotel(conn, sizes.dashboard_reservations)
    print(f"   a hotel with {sizes.dashboard_reservations:,} reservations; loading its screens", flush=True)
    try:
        screens = asyncio.run(_in_browser(database_url, dist, port, hotel, sizes, run_dir))
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("delete from public.tenants where id = %s", (hotel.tenant_id,))
            conn.execute("delete from auth.users where id = %s", (hotel.user_id,))
    return [bundle, *screens]


# ---- the bundle ---------------------------------------------------------------------------------


def _gzipped(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def initial_chunks(dist: Path) -> list[Path]:
    """The files index.html makes the browser load before the app renders: module scripts and
    modulepreloads (lazy routes' chunks are not among them)."""
    html = (dist / "index.html").read_text()
    found: list[str] = []
    for tag in re.findall(r"<script\b[^>]*>", html):
        src = re.search(r'\bsrc="([^"]+)"', tag)
        if 'type="module"' in tag and src:
            found.append(src.group(1))
    for tag in re.findall(r"<link\b[^>]*>", html):
        href = re.search(r'\bhref="([^"]+)"', tag)
        if 'rel="modulepreload"' in tag and href:
            found.append(href.group(1))
    return [dist / f.lstrip("/") for f in dict.fromkeys(found)]


def bundle_result(dist: Path) -> Result:
    chunks = initial_chunks(dist)
    if not chunks:
        raise DevstackError(f"no module script in {dist / 'index.html'}")
    sizes = {c.name: _gzipped(c) for c in chunks}
    total_kb = sum(sizes.values()) / 1024
    modules = dashboard.DASHBOARD_DIR / "node_modules"
    react = {f: _gzipped(modules / f) for f in REACT_FILES if (modules / f).exists()}
    react_kb = sum(react.values()) / 1024
    lazy = sorted(p.name for p in (dist / "assets").glob("*.js") if p not in chunks)
    met = "met" if total_kb <= BUNDLE_TARGET_KB else "MISSED"
    return Result(
        name="dashboard: initial JS",
        figure=f"{total_kb:,.1f} KB gzipped in {len(chunks)} file(s) (target ≤ {BUNDLE_TARGET_KB:.0f} KB: {met})",
        baseline=f"React + React DOM alone: {react_kb:,.1f} KB gzipped",
        ratio=ratio(total_kb, react_kb),
        ratio_meaning="initial JS / React's own (1.0 = nothing but React)",
        data={
            "initial_gzip_bytes": sizes,
            "initial_kb": round(total_kb, 1),
            "target_kb": BUNDLE_TARGET_KB,
            "react_gzip_bytes": react,
            "lazy_chunks": len(lazy),
        },
        notes=[f"gzip level 9; {len(lazy)} lazily loaded chunk(s) are not counted"],
    )


# ---- the hotel ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hotel:
    tenant_id: str
    user_id: str
    email: str
    first_arrival_today: str  # the guest name Today shows first


def seed_hotel(conn: psycopg.Connection[Any], reservations: int) -> Hotel:
    """One hotel (Europe/Berlin) with `reservations` reservations and their guests, arrivals
    spread over a year around today (~1 in 365 arriving today), and its owner."""
    tenant = conn.execute("insert into public.tenants (name) values ('dashboard bench hotel') returning id").fetchone()
    assert tenant is not None
    tenant_id = str(tenant[0])
    prop = conn.execute(
        "insert into public.properties (tenant_id, name, timezone, pms_property_id)"
        " values (%s, 'Main house', 'Europe/Berlin', 'BENCH-DASH') returning id",
        (tenant_id,),
    ).fetchone()
    assert prop is not None
    conn.execute(
        """
        with g as (
          insert into public.guests (tenant_id, full_name, phone_e164, language)
          select %(tenant)s, format('Guest %%s', lpad(i::text, 6, '0')), '+4915' || lpad(i::text, 9, '0'), 'en'
          from generate_series(1, %(n)s) i
          returning id, (regexp_match(full_name, '(\\d+)$'))[1]::int as i
        )
        insert into public.reservations (tenant_id, property_id, guest_id, provider, pms_reservation_id, status,
                                         arrival_date, departure_date, adults, room_label, pms_updated_at)
        select %(tenant)s, %(property)s, g.id, 'generic', format('R%%s', lpad(g.i::text, 6, '0')),
               (case when g.i %% 20 = 0 then 'cancelled' else 'confirmed' end)::public.reservation_status,
               today.d + (g.i %% 365) - 182, today.d + (g.i %% 365) - 182 + 1 + g.i %% 5, 2,
               (100 + g.i %% 300)::text, now()
        from g, (select (now() at time zone 'Europe/Berlin')::date as d) today
        """,
        {"tenant": tenant_id, "property": prop[0], "n": reservations},
    )
    first = conn.execute(
        "select g.full_name from public.reservations r join public.guests g on g.id = r.guest_id"
        " where r.tenant_id = %s and r.arrival_date = (now() at time zone 'Europe/Berlin')::date"
        " and r.status <> 'cancelled' order by r.pms_reservation_id limit 1",
        (tenant_id,),
    ).fetchone()
    if first is None:
        raise DevstackError(
            "the dashboard benchmark needs at least one arrival today: give it 365 reservations or more"
        )
    email = f"owner-{uuid.uuid4().hex[:8]}@bench-hotel.test"
    user = conn.execute(
        "insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,"
        " raw_app_meta_data, raw_user_meta_data, created_at, updated_at) values"
        " ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated', %s,"
        " extensions.crypt(%s, extensions.gen_salt('bf', 4)), now(),"
        """ '{"provider": "email", "providers": ["email"]}', '{}', now(), now()) returning id""",
        (email, PASSWORD),
    ).fetchone()
    assert user is not None
    conn.execute(
        "insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)"
        " values (%s::text, %s, jsonb_build_object('sub', %s::text, 'email', %s::text), 'email', now(), now())",
        (user[0], user[0], user[0], email),
    )
    conn.execute(
        "insert into public.tenant_members (tenant_id, user_id, role) values (%s, %s, 'owner')", (tenant_id, user[0])
    )
    conn.execute("analyze public.reservations, public.guests")
    return Hotel(tenant_id, str(user[0]), email, str(first[0]))


# ---- the browser --------------------------------------------------------------------------------


async def sign_in(page: Page, app_url: str, email: str) -> None:
    await page.goto(app_url)
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").and_(page.locator("input")).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("button", name="Sign out").wait_for(timeout=60_000)


@dataclass
class Screen:
    name: str
    path: str
    shown: str  # a JS predicate: what a person waits for is on screen
    what: str


_HOP = {"host", "content-length", "connection"}  # httpx sets its own
Captured = tuple[str, str, dict[str, str], str | None]  # method, URL, headers, body


async def _load(browser: Browser, storage: Any, url: str, shown: str, arg: str) -> tuple[float, list[Captured]]:
    """One load in a fresh context: ms from navigation start until `shown` holds, and the Data
    API requests the page made on the way."""
    context = await browser.new_context(storage_state=storage, locale="en-GB", timezone_id="Europe/Berlin")
    try:
        page = await context.new_page()
        requests: list[Request] = []
        page.on("request", lambda r: requests.append(r) if "/rest/v1/" in r.url else None)
        await page.goto(url, wait_until="commit")
        handle = await page.wait_for_function(
            f"(arg) => ({shown}) ? performance.now() : false", arg=arg, timeout=60_000
        )
        # `headers`, not all_headers(): that waits for the raw headers of requests still in flight.
        captured = [(r.method, r.url, dict(r.headers), r.post_data) for r in requests]
        return float(await handle.json_value()), captured
    finally:
        await context.close()


async def _replay(captured: list[Captured], rounds: int) -> list[float]:
    """The page's Data API requests, sent again with their own headers, concurrently: ms each round."""
    timings: list[float] = []
    async with httpx.AsyncClient(timeout=60) as http:
        for _ in range(rounds):
            started = time.perf_counter()
            answers = await asyncio.gather(
                *(
                    http.request(
                        m, u, headers={k: v for k, v in h.items() if k not in _HOP and not k.startswith(":")}, content=b
                    )
                    for m, u, h, b in captured
                )
            )
            timings.append((time.perf_counter() - started) * 1000)
            failed = [a.status_code for a in answers if a.status_code >= 400]
            if failed:
                raise DevstackError(f"the replayed Data API requests failed: {failed}")
    return timings


async def _screens(browser: Browser, app_url: str, hotel: Hotel, sizes: Sizes) -> list[Result]:
    context = await browser.new_context(locale="en-GB", timezone_id="Europe/Berlin")
    await sign_in(await context.new_page(), app_url, hotel.email)
    storage = await context.storage_state()
    await context.close()
    screens = [
        Screen(
            "dashboard: Today",
            f"/t/{hotel.tenant_id}/today",
            "document.body.innerText.includes(arg)",
            "first arrival's name on screen",
        ),
        Screen(
            "dashboard: reservations list",
            f"/t/{hotel.tenant_id}/reservations",
            "document.querySelector('table tbody tr') !== null",
            "first row of page 1 on screen",
        ),
    ]
    results: list[Result] = []
    for screen in screens:
        await _load(browser, storage, app_url + screen.path, screen.shown, hotel.first_arrival_today)  # warm-up
        loads: list[float] = []
        requests: list[Captured] = []
        for _ in range(sizes.dashboard_loads):
            ms, requests = await _load(browser, storage, app_url + screen.path, screen.shown, hotel.first_arrival_today)
            loads.append(ms)
        api = await _replay(requests, sizes.dashboard_loads)
        page_p50, api_p50 = statistics.median(loads), statistics.median(api)
        results.append(
            Result(
                name=screen.name,
                figure=f"{screen.what}: p50 {page_p50:,.0f} ms, max {max(loads):,.0f} ms "
                f"({sizes.dashboard_reservations:,} reservations, {len(loads)} cold loads)",
                baseline=f"its {len(requests)} Data API request(s) replayed: p50 {api_p50:,.1f} ms",
                ratio=ratio(page_p50, api_p50),
                ratio_meaning="page / bare API (what the browser, bundle and React add)",
                data={
                    "loads_ms": [round(x, 1) for x in loads],
                    "api_ms": [round(x, 1) for x in api],
                    "api_requests": [f"{m} {u.split('?')[0].split('/rest/v1/')[-1]}" for m, u, _, _ in requests],
                    "reservations": sizes.dashboard_reservations,
                },
            )
        )
    return results


# ---- Lighthouse ---------------------------------------------------------------------------------


def install_lighthouse() -> None:
    """`npm ci` in bench/ when Lighthouse is missing or older than the lock file."""
    stamp = BENCH_DIR / "node_modules" / ".package-lock.json"
    lock = BENCH_DIR / "package-lock.json"
    if LIGHTHOUSE.exists() and stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise DevstackError("npm not found: install Node.js 20 or later")
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=BENCH_DIR, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise DevstackError(f"npm ci in bench/ failed:\n{result.stderr[-2000:]}")


async def lighthouse(url: str, port: int, out: Path, *, keep_storage: bool) -> dict[str, float]:
    """Lighthouse's category scores (0-100) for `url`, in the Chromium listening on `port`."""
    node = shutil.which("node")
    if node is None:
        raise DevstackError("node not found: install Node.js 20 or later")
    args = [
        node,
        str(LIGHTHOUSE),
        url,
        f"--port={port}",
        "--preset=desktop",
        "--only-categories=performance,accessibility",
        "--output=json",
        f"--output-path={out}",
        "--max-wait-for-load=60000",
        "--quiet",
        *(["--disable-storage-reset"] if keep_storage else []),
    ]
    process = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    if process.returncode != 0:
        raise DevstackError(f"lighthouse failed on {url}:\n{output.decode(errors='replace')[-2000:]}")
    return _scores(url, out)


def _scores(url: str, out: Path) -> dict[str, float]:
    report = json.loads(out.read_text())
    if report.get("runtimeError"):
        raise DevstackError(f"lighthouse on {url}: {report['runtimeError']}")
    return {
        name: round(float(category["score"]) * 100, 1)
        for name, category in report["categories"].items()
        if category.get("score") is not None
    }


def _met(scores: dict[str, float]) -> str:
    return ", ".join(
        f"{name} {scores.get(name, float('nan')):.0f} (≥ {target}: "
        f"{'met' if scores.get(name, 0) >= target else 'MISSED'})"
        for name, target in LIGHTHOUSE_TARGETS.items()
    )


async def _lighthouse_results(pw: Any, app_url: str, hotel: Hotel, run_dir: Path) -> list[Result]:
    port = cluster.free_port()
    profile = Path(tempfile.mkdtemp(prefix="hotelwa-lighthouse-"))
    context = await pw.chromium.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), args=[f"--remote-debugging-port={port}"], locale="en-GB"
    )
    print("   Lighthouse: a static page, sign-in, Today", flush=True)
    try:
        baseline = await lighthouse(
            f"{app_url}/lighthouse-baseline.html", port, run_dir / "lh-baseline.json", keep_storage=False
        )
        sign_in_scores = await lighthouse(f"{app_url}/", port, run_dir / "lh-sign-in.json", keep_storage=False)
        page = context.pages[0] if context.pages else await context.new_page()
        await sign_in(page, app_url, hotel.email)
        today = await lighthouse(
            f"{app_url}/t/{hotel.tenant_id}/today", port, run_dir / "lh-today.json", keep_storage=True
        )
    finally:
        await context.close()
        shutil.rmtree(profile, ignore_errors=True)
    results = []
    for name, scores in (("sign-in", sign_in_scores), ("Today", today)):
        results.append(
            Result(
                name=f"dashboard: Lighthouse {name}",
                figure=_met(scores),
                baseline=f"a static page: performance {baseline.get('performance', 0):.0f}, "
                f"accessibility {baseline.get('accessibility', 0):.0f}",
                ratio=ratio(scores.get("performance", 0), baseline.get("performance", 0)),
                ratio_meaning="performance score / the static page's (1.0 = as fast as a static page)",
                data={"scores": scores, "baseline_scores": baseline, "targets": LIGHTHOUSE_TARGETS},
                notes=["Lighthouse 12.8.2, desktop preset (simulated throttling), Debian's Chromium"],
            )
        )
    return results


async def _in_browser(
    database_url: str, dist: Path, port: int, hotel: Hotel, sizes: Sizes, run_dir: Path
) -> list[Result]:
    async with dashboard.with_local_api(database_url, dist, port) as (app_url, _gateway), async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM))
        try:
            screens = await _screens(browser, app_url, hotel, sizes)
        finally:
            await browser.close()
        return [*screens, *await _lighthouse_results(pw, app_url, hotel, run_dir)]
