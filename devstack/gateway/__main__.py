"""python -m devstack.gateway --database-url URL [--port 54321] [--functions-url URL] [--realtime]"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from dataclasses import replace

from devstack.gateway.config import ProjectConfig
from devstack.gateway.server import Gateway


async def serve(args: argparse.Namespace) -> None:
    config = ProjectConfig.load()
    if args.jwt_expiry is not None:
        config = replace(config, auth=replace(config.auth, jwt_expiry=args.jwt_expiry))
    gateway = Gateway(
        args.database_url,
        host=args.host,
        port=args.port,
        config=config,
        functions_url=args.functions_url,
        realtime=args.realtime,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with gateway:
        keys = gateway.keys
        print(f"API URL: {gateway.url}", flush=True)
        print(f"publishable key: {keys.publishable_key}", flush=True)
        print(f"secret key: {keys.secret_key}", flush=True)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.gateway", description=__doc__)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:54322/postgres")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=54321)
    parser.add_argument("--functions-url", help="the functions server (serve.ts) to proxy /functions/v1 to")
    parser.add_argument("--realtime", action="store_true", help="serve /realtime/v1 with the Realtime stand-in")
    parser.add_argument("--jwt-expiry", type=int, help="access token lifetime in seconds (config.toml's jwt_expiry)")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
