"""`python -m worker` runs the worker; `python -m worker ops ...` is the on-call engineer's CLI."""

from __future__ import annotations

import asyncio
import sys

import uvloop
from loguru import logger
from psycopg_pool import PoolTimeout

from worker import log, signals
from worker.app import Worker, open_resources
from worker.settings import Settings, SettingsError, load_settings


async def _run(settings: Settings) -> int:
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
        from worker.ops.cli import main as ops_main

        return ops_main(args[1:])
    if args and args[0] not in ("run",):
        print("usage: python -m worker [run | ops ...]", file=sys.stderr)
        return 2
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"worker: {exc}", file=sys.stderr)
        return 2
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
