"""`make demo` plays a hotel's day through the whole local system; this runs it briskly on free
ports and checks that a person watching would see the story happen."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _free_base_port() -> int:
    """A port p with the demo's ports free (p, p+1, p+8, p+9, p+10, p+19, p+20), below the
    kernel's ephemeral range (32768 and up), where no client connection takes one by chance."""
    for base in range(24000, 32000, 50):
        try:
            socks = []
            for offset in (0, 1, 8, 9, 10, 19, 20):
                sock = socket.socket()
                sock.bind(("127.0.0.1", base + offset))
                socks.append(sock)
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
        return base
    raise RuntimeError("no free ports for the demo")


def test_the_demo_shows_a_day_end_to_end() -> None:
    # Not pytest's tmp_path: the postgres user must be able to reach the cluster inside.
    root = Path(tempfile.mkdtemp(prefix="hotelwa-demo-"))
    root.chmod(0o755)
    try:
        result = _run_demo(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    out = result.stdout
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    _assert_story(out)


def _run_demo(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "devstack.demo",
            "--root",
            str(root / "demo"),
            "--base-port",
            str(_free_base_port()),
            "--pace",
            "0.3",
            "--exit-after-scenario",
            # The dashboard's build is tested in the dashboard suite and tests/dashboard.
            "--no-dashboard",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def _assert_story(out: str) -> None:
    expected = [
        "WhatsApp session WORKING",
        "■ reservation BK-1001 (Ada Lovelace) confirmed",
        "✉ sent: booking_confirmation for Ada Lovelace",
        "✓✓ read: booking_confirmation",
        "five deliveries answered [202, 200, 200, 200, 200]",
        "■ reservation BK-1003 (Chloé Martin) now cancelled",
        "✉ sent: cancellation_notice for Chloé Martin",
        "sync failed",
        "■ reservation BK-1004 (Dmitri Ivanov) confirmed",
        "☎ WhatsApp session is SCAN_QR_CODE — sends paused",
        "🔔 alert open: [warning] whatsapp_disconnected",
        "📟 on-call pager got “WhatsApp session disconnected",
        "🏨 hotel's notification URL got “WhatsApp session disconnected",
        "☎ WhatsApp session is WORKING",
        "🔔 alert resolved: [warning] whatsapp_disconnected",
        "booking_confirmation for Emma Rossi",
        "💬 Ada Lovelace wrote: Hi! Can I check in early, around 11?",
        "💬 Dmitri Ivanov wrote: [image] The receipt for my deposit",
        "💬 Emma Rossi wrote: [document: passport.pdf] My passport, as asked",
        "💬 Sam wrote: Do you have a double room this Friday?",
        "💬 reply to Ada Lovelace from the hotel's phone: Yes, your room will be ready at 11. See you!",
        "💬 Bruno Schulz wrote: STOP — opted out",
        "cancelled: guest opted out of WhatsApp messages",
        'see them: make ops ARGS="dead-letters"',
        "dead-lettered: PayloadError: not a canonical reservation: departure",
        "■ stopped",
    ]
    missing = [line for line in expected if line not in out]
    assert not missing, f"the demo did not show {missing}:\n{out[-4000:]}"
    assert "narration stopped" not in out


def _port_free(port: int) -> bool:
    """Nothing listens on it. SO_REUSEADDR, as every server sets it: the closed connections of a
    stopped server linger in TIME_WAIT for a minute and do not keep the port in use."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_a_demo_that_cannot_start_stops_what_it_started_and_says_why() -> None:
    """The API gateway's port is taken: the demo fails after its database, simulators and edge
    functions are up. It must say so in a sentence and leave nothing running. Its folder is one the `postgres`
    user cannot enter (mode 700, like a clone under /root or in `mktemp -d`), so the cluster has
    to live elsewhere."""
    from devstack import cluster

    root = Path(tempfile.mkdtemp(prefix="hotelwa-demo-private-"))  # mode 700
    base = _free_base_port()
    pg_dir = cluster.cluster_dir(root / "demo")
    try:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", base))
            taken.listen()
            result = _run_demo_at(root / "demo", base)
        assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]
        assert "Traceback" not in result.stderr
        assert result.stderr.startswith("demo: ") and "address already in use" in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1, "one line says why"
        if os.geteuid() == 0:
            assert not pg_dir.is_relative_to(root), "the postgres user cannot reach a cluster inside"
        assert "local PostgreSQL" in result.stdout and "■ stopped" in result.stdout
        for offset in (1, 8, 10, 9, 20):  # the database, the functions, WAHA, the PMS, the receiver
            assert _port_free(base + offset), f"port {base + offset} is still in use"
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(pg_dir.parent if not pg_dir.is_relative_to(root) else pg_dir, ignore_errors=True)


def _run_demo_at(root: Path, base: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "devstack.demo",
            *("--root", str(root), "--base-port", str(base), "--no-scenario", "--no-dashboard"),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
