"""`python -m worker` runs the worker; `python -m worker ops ...` is the on-call engineer's CLI."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from worker.settings import Settings

USAGE = """\
usage: python -m worker [run]              run the worker (the default)
       python -m worker ops COMMAND ...    the on-call engineer's tools (python -m worker ops --help)
       python -m worker --help             this help

Installed as .venv/bin/hotel-worker (same arguments), which works from any directory and
without activating the virtualenv; `make ops ARGS="status"` runs it against the local database.

The worker reads its configuration from the environment (or .env): WORKER_DATABASE_URL is
required; README.md ("Configuration") lists the rest.
"""


async def _run(settings: Settings) -> int:
    from worker import signals
    from worker.app import Worker, open_resources

    resources = await open_resources(settings)
    try:
        worker = Worker(settings, resources)
        signals.install(worker.stop)
        return await worker.run()
    finally:
        await resources.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["ops"]:
        try:
            from worker.ops.cli import main as ops_main
        except ModuleNotFoundError as exc:  # a Python outside the project's virtualenv
            print(
                f"python -m worker ops: this Python lacks the worker's packages ({exc}); run "
                '.venv/bin/hotel-worker ops ... (any directory) or make ops ARGS="..."',
                file=sys.stderr,
            )
            return 2
        return ops_main(args[1:])
    if args[:1] in (["-h"], ["--help"], ["help"]):
        print(USAGE, end="")
        return 0
    if args and args != ["run"]:
        print(f"python -m worker: unknown argument {args[0]!r}\n\n{USAGE}", end="", file=sys.stderr)
        return 2
    # Imported here, not at the top: `--help` needs nothing installed, `ops` none of the runtime.
    from worker.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"worker: {exc}", file=sys.stderr)
        return 2
    import uvloop
    from loguru import logger
    from psycopg_pool import PoolTimeout

    from worker import log

    log.configure(settings.log_level, settings.log_json)
    try:
        # uvloop: the send path is event-loop bound (thousands of HTTP exchanges a second).
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(_run(settings))
    except (OSError, PoolTimeout) as exc:
        logger.error("worker could not start: {error}", error=exc or "database unreachable")
        return 1


if __name__ == "__main__":
    sys.exit(main())
