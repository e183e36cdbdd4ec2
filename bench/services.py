"""The processes a benchmark runs against, started the way production runs them: the edge
functions server (Deno), the WAHA simulator and `python -m worker`, each a separate process
with its output in a log file of the run directory. Stopped by their own pid, never by name."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from devstack import paths


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServiceError(RuntimeError):
    """A service did not start; the message carries the tail of its log."""


class Service:
    def __init__(self, name: str, argv: list[str], log: Path, *, env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.argv = argv
        self.log = log
        self.env = env
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> Service:
        with self.log.open("ab") as out:
            # A session of its own: Ctrl-C on `make bench` reaches only the benchmark, which then
            # stops each service itself (and so never leaves one running).
            self.process = subprocess.Popen(
                self.argv, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if not self.alive():
                raise ServiceError(f"{self.name} exited before {what}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise ServiceError(f"{self.name}: no {what} after {timeout:.0f} s:\n{self.log_tail()}")
            time.sleep(0.05)

    def log_lines(self) -> Iterator[dict[str, Any]]:
        """The JSON lines of the log (the worker logs one JSON object a line)."""
        with contextlib.suppress(FileNotFoundError), self.log.open(errors="replace") as handle:
            for line in handle:
                with contextlib.suppress(json.JSONDecodeError):
                    entry = json.loads(line)
                    if isinstance(entry, dict):
                        yield entry

    def rss_kib(self) -> int:
        """Resident set size from /proc/<pid>/status (VmRSS), in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise ServiceError(f"{self.name}: no VmRSS in /proc/{self.pid}/status")

    def stop(self, grace: float = 20.0) -> int | None:
        """SIGTERM (the graceful path each service implements), SIGKILL after `grace` seconds."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


def _http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def functions_server(database_url: str, run_dir: Path) -> tuple[Service, str]:
    """supabase/functions/serve.ts (what `make functions` runs): every edge function under
    /functions/v1/<name>. Returns the service and the functions base URL."""
    port = free_port()
    env = {**os.environ, "SUPABASE_DB_URL": database_url, "PORT": str(port), "HOST": "127.0.0.1"}
    service = Service(
        "edge functions",
        [str(paths.VENV_BIN / "deno"), "run", "--allow-all", "serve.ts", "--allow-local-jwt-secret"],
        run_dir / "functions.log",
        env=env,
        cwd=paths.FUNCTIONS_DIR,
    ).start()
    base = f"http://127.0.0.1:{port}"
    service.wait_until(lambda: _http_ok(f"{base}/health"), 60, "answer on /health")
    return service, f"{base}/functions/v1"


def waha_simulator(run_dir: Path, *, api_key: str, latency_ms: float) -> tuple[Service, str]:
    """The WAHA simulator as its own process; acks off (nothing here consumes them)."""
    port = free_port()
    service = Service(
        "WAHA simulator",
        [
            sys.executable,
            "-m",
            "devstack.simulators.waha",
            "--port",
            str(port),
            "--api-key",
            api_key,
            "--latency-ms",
            str(latency_ms),
            "--ack-delays-ms",
            "off",
        ],
        run_dir / f"waha-{port}.log",
        env=dict(os.environ),
        cwd=paths.ROOT,
    ).start()
    base = f"http://127.0.0.1:{port}"
    service.wait_until(lambda: _http_ok(f"{base}/ping"), 30, "answer on /ping")
    return service, base


def worker(database_url: str, run_dir: Path, name: str, **settings: object) -> Service:
    """`python -m worker` configured through WORKER_* variables, as in production; returns once
    it logged that it started (and, with LISTEN/NOTIFY, that it listens)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WORKER_")},
        "WORKER_DATABASE_URL": database_url,
        "WORKER_HEALTH_PORT": "0",
        "WORKER_WORKER_ID": name,
    }
    env.update({f"WORKER_{key.upper()}": str(value) for key, value in settings.items()})
    service = Service(
        f"worker {name}",
        [sys.executable, "-m", "worker"],
        run_dir / f"worker-{name}.log",
        env=env,
        cwd=paths.ROOT,
    ).start()
    wakeup = str(settings.get("wakeup", "listen"))

    def ready() -> bool:
        messages = [str(line.get("msg", "")) for line in service.log_lines()]
        started = any(m.startswith("worker ") and " started " in m for m in messages)
        listening = wakeup != "listen" or any(m.startswith("listening for wake-ups") for m in messages)
        return started and listening

    service.wait_until(ready, 60, "start-up log line")
    return service


@contextlib.contextmanager
def running(*services: Service) -> Iterator[None]:
    """Stops the given services on the way out, whatever happened."""
    try:
        yield
    finally:
        for service in services:
            service.stop()
