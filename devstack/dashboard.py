"""The hotel dashboard (dashboard/): its production build, and a static server for it.

The build bakes in the Supabase URL and publishable key (VITE_SUPABASE_URL,
VITE_SUPABASE_PUBLISHABLE_KEY), as any static host serves it. The server answers every path
that is not a file with index.html, so the app's own URLs (/t/<hotel>/today) load on a reload.

The dashboard against the local API, as the browser tests (tests/dashboard/conftest.py) and the
dashboard benchmark (bench/dashboard.py) run it:

    dist, port = build_for_local_api(out_dir)        # the gateway's port is chosen before the build
    async with with_local_api(database_url, dist, port) as (app_url, gateway):
        ...
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType

from aiohttp import web

from devstack import cluster, paths
from devstack.errors import DevstackError
from devstack.gateway.config import AuthSettings
from devstack.gateway.keys import ProjectKeys
from devstack.gateway.server import Gateway

DASHBOARD_DIR = paths.ROOT / "dashboard"


def install() -> None:
    """`npm ci` in dashboard/ when node_modules is missing or older than the lock file."""
    stamp = DASHBOARD_DIR / "node_modules" / ".package-lock.json"
    lock = DASHBOARD_DIR / "package-lock.json"
    if stamp.exists() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return
    _npm(["ci", "--no-audit", "--no-fund", "--loglevel=error"])


def build(out_dir: Path, supabase_url: str, publishable_key: str) -> Path:
    """Builds the dashboard for this project into out_dir; returns out_dir."""
    install()
    env = {**os.environ, "VITE_SUPABASE_URL": supabase_url, "VITE_SUPABASE_PUBLISHABLE_KEY": publishable_key}
    vite = DASHBOARD_DIR / "node_modules" / ".bin" / "vite"
    result = subprocess.run(
        [str(vite), "build", "--outDir", str(out_dir), "--emptyOutDir", "--logLevel", "warn"],
        cwd=DASHBOARD_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise DevstackError(f"the dashboard did not build:\n{result.stdout}\n{result.stderr}")
    return out_dir


def _npm(args: list[str]) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise DevstackError("npm not found: install Node.js 20 or later")
    result = subprocess.run([npm, *args], cwd=DASHBOARD_DIR, check=False)
    if result.returncode != 0:
        raise DevstackError(f"npm {' '.join(args)} failed in {DASHBOARD_DIR}")


def static_app(root: Path) -> web.Application:
    """Serves the built files; any other path gets index.html (the app routes it)."""
    root = root.resolve()
    index = root / "index.html"
    if not index.is_file():
        raise DevstackError(f"{index} is missing: build the dashboard first")

    async def serve(request: web.Request) -> web.StreamResponse:
        wanted = (root / request.match_info["path"]).resolve()
        if wanted.is_relative_to(root) and wanted.is_file():
            # Hashed file names under assets/ never change; index.html must be asked for again.
            immutable = wanted.parent.name == "assets"
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return web.FileResponse(wanted, headers={"Cache-Control": cache})
        return web.FileResponse(index, headers={"Cache-Control": "no-cache"})

    app = web.Application()
    app.router.add_get("/{path:.*}", serve)
    return app


class DashboardServer:
    """The built dashboard on http://host:port (port 0: one the system chooses)."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = root
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._runner = web.AppRunner(static_app(self.root), access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DashboardServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


def build_for_local_api(out_dir: Path) -> tuple[Path, int]:
    """Builds the dashboard for a local gateway on a port chosen now (the build bakes the URL in);
    returns the build and that port."""
    port = cluster.free_port()
    build(out_dir, f"http://127.0.0.1:{port}", ProjectKeys().publishable_key)
    return out_dir, port


@contextlib.asynccontextmanager
async def with_local_api(
    database_url: str,
    dist: Path,
    port: int,
    *,
    auth: AuthSettings | None = None,
    functions_url: str | None = None,
    realtime: bool = True,
) -> AsyncIterator[tuple[str, Gateway]]:
    """The built dashboard served, and the gateway it was built for (Auth, the Data API and
    Realtime against `database_url`; /functions/v1 to `functions_url`) on its port."""
    async with (
        Gateway(database_url, port=port, auth=auth, functions_url=functions_url, realtime=realtime) as gateway,
        DashboardServer(dist) as app,
    ):
        yield app.url, gateway
