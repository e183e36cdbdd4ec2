"""A throwaway PostgreSQL 15 cluster that looks like a Supabase database.

Used by the tests (one cluster per run, removed afterwards) and by the local system (one
persistent cluster under `.local/`). Postgres refuses to run as root, so as root the cluster is
owned and run by the `postgres` user; when that user cannot reach `.local/` (a clone under /root
or in a `mktemp -d` folder, mode 700), the cluster lives in /var/tmp instead (`cluster_dir`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from devstack import paths
from devstack.errors import DevstackError

PG_MAJOR = "15"


def pg_bindir() -> Path:
    candidates = [Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin")]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(out.stdout.strip()))
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise DevstackError(
        f"PostgreSQL {PG_MAJOR} server binaries not found; install them with `apt-get install postgresql-{PG_MAJOR}`"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_cluster_owner(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _chown_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, user="postgres", group="postgres")


@dataclass
class Cluster:
    datadir: Path
    port: int
    sockdir: Path
    # Durable: fsync, synchronous_commit and full_page_writes on, as a Supabase database runs
    # (make bench). Off: the tests' fast settings, which a crash of the machine could corrupt.
    durable: bool = False

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def log_dir(self) -> Path:
        return self.datadir.parent / "log"

    @property
    def jsonlog(self) -> Path:
        """The server's log, one JSON object a line (PostgreSQL's jsonlog): what the worker reads
        for the writes RLS refused (worker/ops/rls_logs.py), and the Management API simulator
        serves as `postgres_logs`. Readable by anyone on the machine, never rotated."""
        return self.log_dir / "postgresql.json"

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = _as_cluster_owner([str(pg_bindir() / "pg_ctl"), "-D", str(self.datadir), *args])
        return subprocess.run(cmd, capture_output=True, text=True, check=False)

    def start(self) -> None:
        opts = " ".join(
            [
                f"-p {self.port}",
                f"-k {self.sockdir}",
                "-c listen_addresses=127.0.0.1",
                "-c wal_level=logical",
                "-c shared_preload_libraries=pg_cron",
                "-c cron.database_name=postgres",
                "-c max_connections=200",
                # The server's log as files in a known place (`jsonlog`), as Supabase keeps it for
                # its Logs Explorer: the collector reads it incrementally.
                "-c logging_collector=on",
                "-c log_destination=stderr,jsonlog",
                f"-c log_directory={self.log_dir}",
                "-c log_filename=postgresql.log",
                "-c log_file_mode=0644",
                "-c log_timezone=UTC",
                "-c log_rotation_age=0",
                "-c log_rotation_size=0",
                *(
                    ["-c fsync=on", "-c synchronous_commit=on", "-c full_page_writes=on"]
                    if self.durable
                    else [
                        "-c fsync=off",
                        "-c synchronous_commit=off",
                        # Logical decoding (the Realtime stand-in) sees a commit only once its WAL is
                        # flushed; with synchronous_commit off that waits for the WAL writer (200 ms by
                        # default), which hosted Supabase, committing synchronously, does not add.
                        "-c wal_writer_delay=10ms",
                        "-c full_page_writes=off",
                    ]
                ),
            ]
        )
        self.log_dir.mkdir(mode=0o755, exist_ok=True)
        _chown_to_postgres(self.log_dir)
        log = self.datadir.parent / "postgres.log"
        result = self._pg_ctl("-l", str(log), "-o", opts, "-w", "-t", "30", "start")
        if result.returncode != 0:
            collected = self.log_dir / "postgresql.log"
            detail = "".join(f.read_text() for f in (log, collected) if f.exists()) or result.stderr
            raise DevstackError(f"PostgreSQL did not start on port {self.port}:\n{detail[-2000:]}")

    def stop(self, mode: str = "fast") -> None:
        """`mode` "immediate" cuts every connection at once, like a crash (fault tests)."""
        self._pg_ctl("-m", mode, "-w", "stop")

    def is_running(self) -> bool:
        return self._pg_ctl("status").returncode == 0


def init_cluster(root: Path, port: int | None = None) -> Cluster:
    """Create a new cluster under `root` (which must not hold one yet)."""
    root.mkdir(parents=True, exist_ok=True)
    datadir = root / "data"
    sockdir = root / "sock"
    sockdir.mkdir(exist_ok=True)
    for path in (root, sockdir):
        _chown_to_postgres(path)
    initdb = _as_cluster_owner(
        [
            str(pg_bindir() / "initdb"),
            "-D",
            str(datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]
    )
    result = subprocess.run(initdb, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DevstackError(f"initdb failed:\n{result.stderr}")
    return Cluster(datadir=datadir, port=port or free_port(), sockdir=sockdir)


@contextlib.contextmanager
def throwaway_cluster(*, durable: bool = False) -> Iterator[Cluster]:
    """A cluster in a temporary directory, started, and removed on exit."""
    root = Path(tempfile.mkdtemp(prefix="hotelwa-pg-"))
    os.chmod(root, 0o755)  # noqa: S103 (the postgres user must reach the cluster inside)
    cluster = dataclasses.replace(init_cluster(root), durable=durable)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def wait_until_ready(url: str, timeout: float = 30.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            with psycopg.connect(url, connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def reachable_by_cluster_owner(path: Path) -> bool:
    """Whether the user the cluster runs as can enter `path` (every folder above it included)."""
    if os.geteuid() != 0:
        return True  # the cluster runs as this very user
    probe = _as_cluster_owner(["test", "-x", str(path)])
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def cluster_dir(local: Path) -> Path:
    """Where the persistent cluster of a local folder (`.local/`, the demo's --root) lives:
    `<local>/pg`, unless the `postgres` user cannot reach it; then a folder in /var/tmp named
    after the local folder's path, so each clone keeps its own cluster there."""
    local.mkdir(parents=True, exist_ok=True)
    os.chmod(local, 0o755)  # noqa: S103 (the postgres user must reach the cluster inside)
    if reachable_by_cluster_owner(local):
        return local / "pg"
    key = hashlib.sha256(str(local.resolve()).encode()).hexdigest()[:16]
    outside = Path("/var/tmp") / f"hotelwa-pg-{key}"  # noqa: S108 (a fixed name per clone, on purpose)
    outside.mkdir(mode=0o755, exist_ok=True)
    return outside / "pg"


def local_cluster(local: Path | None = None) -> Cluster:
    """The persistent cluster of the local system (`make db`, `make demo`)."""
    root = cluster_dir(local or paths.LOCAL_DIR)
    port = int(os.environ.get("LOCAL_PG_PORT", "54322"))
    if not (root / "data" / "PG_VERSION").exists():
        if root.exists():
            shutil.rmtree(root)
        return init_cluster(root, port)
    return Cluster(datadir=root / "data", port=port, sockdir=root / "sock")
