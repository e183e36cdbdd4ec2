"""Starts and stops the local system's processes: the edge functions and the worker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devstack import paths

LOG_DIR = paths.LOCAL_DIR / "logs"


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path = paths.ROOT
    process: asyncio.subprocess.Process | None = field(default=None, init=False)

    @property
    def log_path(self) -> Path:
        return LOG_DIR / f"{self.name}.log"

    async def start(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            *self.argv,
            cwd=self.cwd,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=log,
            start_new_session=True,  # Ctrl-C reaches the demo only; it stops the services in order
        )

    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def stop(self, grace: float = 15) -> None:
        if not self.running():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


async def wait_http(url: str, service: Service, seconds: float = 60) -> None:
    async with httpx.AsyncClient(timeout=1) as client:
        for _ in range(int(seconds * 10)):
            if not service.running():
                raise RuntimeError(f"{service.name} exited; see {service.log_path}")
            try:
                if (await client.get(url)).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{service.name} did not answer at {url}; see {service.log_path}")


def functions_service(
    database_url: str, port: int, public_url: str | None = None, auth_url: str | None = None
) -> Service:
    """The functions server; `public_url` is where others reach its functions (FUNCTIONS_URL: the
    gateway's /functions/v1 when it runs behind the gateway); `auth_url` the gateway's Auth, which
    team-invite asks to e-mail invitations (AUTH_URL)."""
    # Local development: the WAHA simulator listens on http://127.0.0.1.
    env = {"SUPABASE_DB_URL": database_url, "PORT": str(port), "ALLOW_LOCAL_URLS": "true"}
    if public_url is not None:
        env["FUNCTIONS_URL"] = public_url
    if auth_url is not None:
        env["AUTH_URL"] = auth_url
    return Service(
        "functions",
        # The gateway's Auth signs users' tokens with the CLI's local secret (serve.ts says why it
        # must be asked to accept it).
        [str(paths.VENV_BIN / "deno"), "run", "--allow-all", "serve.ts", "--allow-local-jwt-secret"],
        env,
        cwd=paths.FUNCTIONS_DIR,
    )


def worker_service(database_url: str, health_port: int, extra_env: dict[str, str] | None = None) -> Service:
    return Service(
        "worker",
        [str(paths.VENV_BIN / "python"), "-m", "worker"],
        {
            **(extra_env or {}),
            "WORKER_DATABASE_URL": database_url,
            "WORKER_HEALTH_PORT": str(health_port),
            "WORKER_ALLOW_LOCAL_URLS": "true",
            "WORKER_WAKEUP": "listen",
            "WORKER_POLL_INTERVAL_SECONDS": "2",
            "WORKER_SESSION_CHECK_SECONDS": "5",
            "WORKER_RETRY_BASE_SECONDS": "3",
        },
    )
