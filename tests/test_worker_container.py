"""worker/Dockerfile, checked as far as a machine without Docker can.

The image's facts are read from the Dockerfile itself: the lock it installs from, the packages it
leaves out, the user it runs as, its health check and entry point. The last test lays out what
the image holds (the runtime packages of the lock in a fresh virtualenv, the project installed
into it by pip as the Dockerfile does, nothing of the checkout importable) and starts
`python -m worker` from there against the test database, until the image's own health check
command passes.
"""

from __future__ import annotations

import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from importlib.metadata import distribution
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from devstack import paths

DOCKERFILE = paths.ROOT / "worker" / "Dockerfile"


def dockerfile() -> str:
    return DOCKERFILE.read_text()


def final_stage() -> str:
    return re.split(r"^FROM ", dockerfile(), flags=re.MULTILINE)[-1]


def lock() -> dict[str, str]:
    pins = {}
    for line in (paths.ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[name] = version.strip()
    return pins


def build_copies() -> list[tuple[list[str], str]]:
    """The build stage's `COPY <source>... <dest>` lines (dest relative to WORKDIR /app)."""
    build = re.split(r"^FROM ", dockerfile(), flags=re.MULTILINE)[1]
    copies = []
    for line in re.findall(r"^COPY (?!--from)(.+)$", build, flags=re.MULTILINE):
        *sources, dest = line.split()
        copies.append((sources, dest.removeprefix("./")))
    return copies


def runtime_lock() -> dict[str, str]:
    """The lock lines the Dockerfile keeps, by its own `grep -vE '<pattern>'`."""
    match = re.search(r"grep -vE '([^']+)' requirements\.lock > runtime\.lock", dockerfile())
    assert match, "the Dockerfile builds runtime.lock from requirements.lock with grep -vE"
    dropped = re.compile(match.group(1))
    return {name: version for name, version in lock().items() if not dropped.match(f"{name}=={version}")}


def runtime_closure() -> set[str]:
    """pyproject's dependencies and everything they require (markers and extras evaluated)."""
    project = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["project"]
    seen: dict[str, set[str]] = {}
    stack = [Requirement(d) for d in project["dependencies"]]
    while stack:
        req = stack.pop()
        name = canonicalize_name(req.name)
        if name in seen and set(req.extras) <= seen[name]:
            continue
        seen[name] = seen.get(name, set()) | set(req.extras)
        environments = [{"extra": extra} for extra in seen[name] | {""}]
        for text in distribution(req.name).requires or []:
            sub = Requirement(text)
            if sub.marker is None or any(sub.marker.evaluate(env) for env in environments):
                stack.append(sub)
    return set(seen)


def test_the_image_installs_from_the_lock_and_runs_as_a_user_with_a_health_check() -> None:
    text = dockerfile()
    assert "COPY requirements.lock pyproject.toml ./" in text
    assert "pip install --no-cache-dir -r runtime.lock" in text
    assert "pip install --no-cache-dir --no-deps ." in text  # the project itself adds no unpinned package
    users = re.findall(r"^USER (\S+)", final_stage(), flags=re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*CMD .*/healthz", final_stage(), flags=re.MULTILINE)
    assert '["python", "-m", "worker"]' in final_stage()


def test_the_image_gets_exactly_the_runtime_packages_of_the_lock() -> None:
    kept = {canonicalize_name(name) for name in runtime_lock()}
    needed = runtime_closure()
    assert needed - kept == set(), "the Dockerfile drops packages the worker needs"
    assert kept - needed == set(), "the Dockerfile installs development tools"


def _link_installed(dist_name: str, site_packages: Path) -> None:
    """Puts an installed distribution's files into another site-packages (symlinks: fast)."""
    dist = distribution(dist_name)
    for file in dist.files or []:
        source = Path(str(dist.locate_file(file))).resolve()
        target = site_packages / file
        if not str(file).startswith("..") and source.is_file() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source)


@pytest.fixture(scope="module")
def image_layout() -> Iterator[Path]:
    """A fresh virtualenv with what the image's venv holds; returns its python."""
    with tempfile.TemporaryDirectory(prefix="worker-image-") as tmp:
        root = Path(tmp)
        venv = root / "venv"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        python = venv / "bin" / "python"
        site = Path(
            subprocess.run(
                [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        for name, version in runtime_lock().items():
            assert distribution(name).version == version, f"{name} in .venv differs from the lock"
            _link_installed(name, site)
        # /app of the build stage: what the Dockerfile's COPY lines put there.
        app = root / "app"
        app.mkdir()
        for sources, dest in build_copies():
            target = app / dest
            for source in sources:
                into = target / Path(source).name if dest.endswith("/") or len(sources) > 1 else target
                into.parent.mkdir(parents=True, exist_ok=True)
                if (paths.ROOT / source).is_dir():
                    shutil.copytree(paths.ROOT / source, into, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copyfile(paths.ROOT / source, into)
        # `pip install --no-deps .` in /app: pip builds the wheel (fetching setuptools as the image
        # build does, from the pip cache after the first run) and installs it without dependencies.
        pip = [sys.executable, "-m", "pip", "--quiet"]
        wheels = root / "wheels"
        subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(app)], check=True)
        subprocess.run([*pip, "--python", str(python), "install", "--no-deps", *map(str, wheels.iterdir())], check=True)
        yield python


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_python_m_worker_starts_from_the_image_layout(image_layout: Path, clean_db: str) -> None:
    workdir = image_layout.parent.parent.parent  # outside the checkout: nothing importable from it
    probe = subprocess.run(
        [str(image_layout), "-c", "import worker, devstack"],
        capture_output=True,
        text=True,
        cwd=workdir,
        check=False,
    )
    assert "No module named 'devstack'" in probe.stderr  # the image has the worker only
    where = subprocess.run(
        [str(image_layout), "-c", "import worker; print(worker.__file__)"],
        capture_output=True,
        text=True,
        cwd=workdir,
        check=True,
    ).stdout
    assert str(image_layout.parent.parent) in where  # the installed copy, not the checkout
    # What the worker reads besides code comes with it: its SQL, the canonical reservation schema.
    subprocess.run(
        [
            str(image_layout),
            "-c",
            "import sys, worker; from worker.db.queries import SQL_DIR, load;"
            "from worker.pms.mapping import SCHEMA_PATH, _validator;"
            "names = sorted(p.stem for p in SQL_DIR.glob('*.sql')); assert names == sys.argv[1:], names;"
            "[load(n) for n in names]; _validator();"
            "assert str(SCHEMA_PATH).startswith(worker.__path__[0]), SCHEMA_PATH",
            *sorted(p.stem for p in (paths.ROOT / "worker" / "sql").glob("*.sql")),
        ],
        cwd=workdir,
        check=True,
    )

    port = _free_port()
    env = {
        "PATH": f"{image_layout.parent}:/usr/bin:/bin",
        "PYTHONUNBUFFERED": "1",
        "WORKER_DATABASE_URL": clean_db,
        "WORKER_HEALTH_PORT": str(port),
        "WORKER_HEALTH_HOST": "127.0.0.1",
        "WORKER_WAKEUP": "poll",
    }
    worker = subprocess.Popen(
        [str(image_layout), "-m", "worker"], env=env, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        # The Dockerfile's HEALTHCHECK command, in the worker's environment (as Docker runs it).
        command = re.search(r"^HEALTHCHECK .*? CMD (.*)$", final_stage(), flags=re.MULTILINE)
        assert command
        check = shlex.split(command.group(1))
        assert check[0] == "python" and "||" in check
        argv = [str(image_layout), *check[1 : check.index("||")]]
        deadline = time.monotonic() + 60
        while subprocess.run(argv, capture_output=True, cwd=workdir, env=env, check=False).returncode != 0:
            assert worker.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "the health check never passed"
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=60)[0].decode()
    assert worker.returncode == 0, output
