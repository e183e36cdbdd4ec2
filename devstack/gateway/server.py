"""Runs the gateway: `python -m devstack.gateway`, or embedded in tests and the demo.

    async with Gateway(database_url, port=0) as gateway:
        client = create_client(gateway.url, gateway.keys.publishable_key)

With `realtime=True` it also starts the Realtime stand-in (on a port of its own) and serves its
websocket at /realtime/v1; `functions_url` proxies /functions/v1 to a running functions server.
"""

from __future__ import annotations

from dataclasses import replace
from types import TracebackType

from aiohttp import web

from devstack.gateway.app import GatewayContext, Mount, build_app, default_mounts
from devstack.gateway.config import AuthSettings, ProjectConfig
from devstack.gateway.keys import ProjectKeys
from devstack.simulators.realtime import RealtimeSimulator


class Gateway:
    def __init__(
        self,
        database_url: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        keys: ProjectKeys | None = None,
        config: ProjectConfig | None = None,
        auth: AuthSettings | None = None,
        mounts: list[Mount] | None = None,
        functions_url: str | None = None,
        realtime: bool = False,
        realtime_url: str | None = None,
    ) -> None:
        config = config or ProjectConfig.load()
        if auth is not None:
            config = replace(config, auth=auth)
        self.context = GatewayContext(database_url, keys or ProjectKeys(), config)
        self.host = host
        self.port = port
        self.mounts = mounts
        self.functions_url = functions_url
        self.realtime_url = realtime_url
        self.realtime: RealtimeSimulator | None = (
            RealtimeSimulator(database_url, jwt_secret=self.context.keys.jwt_secret) if realtime else None
        )
        self._runner: web.AppRunner | None = None

    @property
    def keys(self) -> ProjectKeys:
        return self.context.keys

    @property
    def services(self) -> list[str]:
        """The path prefixes served, e.g. ["/auth/v1", "/realtime/v1", "/functions/v1"]."""
        mounts = default_mounts() if self.mounts is None else self.mounts
        served = [m.prefix for m in mounts]
        if self.realtime_url is not None:
            served.append("/realtime/v1")
        if self.functions_url is not None:
            served.append("/functions/v1")
        return served

    @property
    def url(self) -> str:
        """The project URL clients take (`create_client(url, key)`)."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        if self.realtime is not None:
            await self.realtime.start()
            self.realtime_url = self.realtime.base_url
        app = build_app(self.context, self.mounts, functions_url=self.functions_url, realtime_url=self.realtime_url)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        # The port the system chose when 0 was asked.
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.realtime is not None:
            await self.realtime.stop()

    async def __aenter__(self) -> Gateway:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
