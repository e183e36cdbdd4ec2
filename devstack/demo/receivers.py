"""Stand-ins for the on-call pager and the hotel's notification endpoint: they print what the
system's alert notifications (sent through pg_net) tell them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from aiohttp import web


class NotificationReceiver:
    def __init__(self, port: int, say: Callable[[str], None]) -> None:
        self.port = port
        self.say = say
        self.runner: web.AppRunner | None = None

    @property
    def oncall_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/oncall"

    @property
    def hotel_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hotel"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/oncall", self._receive("📟 on-call pager"))
        app.router.add_post("/hotel", self._receive("🏨 hotel's notification URL"))
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def _receive(self, who: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            body = await request.json()
            alert = body.get("alert", {})
            event = str(body.get("type", "alert")).removeprefix("alert.")
            self.say(f"{dt.datetime.now():%H:%M:%S}  {who} got “{alert.get('summary')}” ({event})")
            return web.json_response({"ok": True})

        return handler
