"""The dashboard benchmark still runs end to end at a tiny size (as tests/test_bench_smoke.py does
for the others): the production build's initial chunks found and weighed, both screens loaded
in Chromium through the local API until a person would see their data, their Data API requests
replayed, and Lighthouse's scores read. No timing or score is asserted."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from bench import dashboard
from bench.common import SMOKE

pytestmark = pytest.mark.slow


@pytest.mark.timeout(600)  # a production build, Chromium and Lighthouse on a shared 2-core machine
@pytest.mark.skipif(not dashboard.CHROMIUM.exists(), reason=f"no Chromium at {dashboard.CHROMIUM}")
def test_the_dashboard_benchmark_measures_bundle_screens_and_lighthouse(clean_db: str, tmp_path: Path) -> None:
    results = {r.name: r for r in dashboard.run(clean_db, tmp_path, SMOKE)}
    assert list(results) == [
        "dashboard: initial JS",
        "dashboard: Today",
        "dashboard: reservations list",
        "dashboard: Lighthouse sign-in",
        "dashboard: Lighthouse Today",
    ]
    bundle = results["dashboard: initial JS"].data
    assert any(name.startswith("index-") for name in bundle["initial_gzip_bytes"]), "the entry chunk is counted"
    assert bundle["react_gzip_bytes"], "React's own weight is the baseline"
    for screen in ("dashboard: Today", "dashboard: reservations list"):
        data = results[screen].data
        assert len(data["loads_ms"]) == SMOKE.dashboard_loads
        assert data["api_requests"], f"{screen} asked the Data API for its data"
    assert any("search_reservations" in r for r in results["dashboard: reservations list"].data["api_requests"])
    for page in ("sign-in", "Today"):
        scores = results[f"dashboard: Lighthouse {page}"].data["scores"]
        assert set(scores) == {"performance", "accessibility"}
    with psycopg.connect(clean_db) as conn:
        left = conn.execute("select count(*) from public.tenants where name = 'dashboard bench hotel'").fetchone()
    assert left == (0,), "the benchmark's hotel is gone afterwards"
