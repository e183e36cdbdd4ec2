"""Running the real worker as a separate process, the way it runs in production."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from devstack import paths


class WorkerProcess:
    def __init__(self, database_url: str, **settings: Any) -> None:
        # The simulators listen on 127.0.0.1: the local-development URL setting is on.
        self.env = {
            **os.environ,
            "WORKER_DATABASE_URL": database_url,
            "WORKER_HEALTH_PORT": "0",
            "WORKER_ALLOW_LOCAL_URLS": "true",
        }
        self.env.update({f"WORKER_{k.upper()}": str(v) for k, v in settings.items()})
        self.process: asyncio.subprocess.Process | None = None
        self.lines: list[dict[str, Any]] = []
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> WorkerProcess:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "worker", env=self.env, stderr=asyncio.subprocess.PIPE
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        async for raw in self.process.stderr:
            line = raw.decode(errors="replace").strip()
            try:
                self.lines.append(json.loads(line))
            except json.JSONDecodeError:
                self.lines.append({"msg": line, "level": "raw"})

    async def wait_for_log(self, predicate: Callable[[dict[str, Any]], bool], seconds: float = 20) -> dict[str, Any]:
        async with asyncio.timeout(seconds):
            while True:
                for line in self.lines:
                    if predicate(line):
                        return line
                if self.process is not None and self.process.returncode is not None:
                    raise AssertionError(f"worker exited with {self.process.returncode}: {self.lines[-5:]}")
                await asyncio.sleep(0.05)

    async def health_port(self) -> int:
        line = await self.wait_for_log(
            lambda entry: str(entry.get("msg", "")).startswith("worker ") and "started" in str(entry.get("msg"))
        )
        return int(str(line["msg"]).rsplit("port ", 1)[1].rstrip(")"))

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    async def wait(self, seconds: float = 30) -> int:
        assert self.process is not None
        async with asyncio.timeout(seconds):
            code = await self.process.wait()
        if self._reader is not None:
            await self._reader
        return code

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGKILL)
            await self.process.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader


@contextlib.contextmanager
def functions_server(database_url: str, port: int, auth_url: str | None = None) -> Iterator[str]:
    """supabase/functions/serve.ts as `make functions` runs it, on `port` (local development: the
    CLI's published JWT secret, and tenants' URLs on 127.0.0.1 where the simulators listen).
    Yields its /functions/v1 URL once it answers /health."""
    env = {
        **os.environ,
        "SUPABASE_DB_URL": database_url,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "ALLOW_LOCAL_URLS": "true",
        # team-invite e-mails invitations through Auth (the gateway's /auth/v1).
        **({"AUTH_URL": auth_url} if auth_url else {}),
    }
    process = subprocess.Popen(
        [str(paths.VENV_BIN / "deno"), "run", "--allow-all", "serve.ts", "--allow-local-jwt-secret"],
        cwd=paths.FUNCTIONS_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=1) as client:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{url}/health").status_code == 200:
                        break
                if process.poll() is not None:
                    raise RuntimeError("the functions server exited")
                if time.monotonic() > deadline:
                    raise RuntimeError("the functions server did not start within 60 s")
                time.sleep(0.1)
        yield f"{url}/functions/v1"
    finally:
        process.terminate()
        process.wait(10)
