"""The gateway's pass-through routes: /functions/v1 to the functions server, /realtime/v1's
websocket to the Realtime stand-in. Both keep the path, as Supabase's gateway does for them."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterable
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from devstack.gateway.keys import ProjectKeys

# Hop-by-hop headers (RFC 9110 7.6.1) and the ones aiohttp sets itself.
_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}

SESSION = web.AppKey("proxy_session", aiohttp.ClientSession)


def _forward_headers(headers: Iterable[tuple[str, str]]) -> CIMultiDict[str]:
    out: CIMultiDict[str] = CIMultiDict()
    for name, value in headers:
        if name.lower() not in _HOP:
            out.add(name, value)
    return out


def functions_app(upstream: str) -> web.Application:
    """/functions/v1/* to `upstream` (the Deno functions server's base URL), streamed both ways."""
    app = web.Application(client_max_size=0)

    async def session_ctx(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(auto_decompress=False) as session:
            app[SESSION] = session
            yield

    async def forward(request: web.Request) -> web.StreamResponse:
        url = f"{upstream.rstrip('/')}{request.rel_url}"
        headers = _forward_headers(request.headers.items())
        headers["X-Forwarded-For"] = request.remote or ""
        try:
            async with app[SESSION].request(
                request.method,
                url,
                headers=headers,
                data=request.content if request.body_exists else None,
                allow_redirects=False,
            ) as upstream_response:
                response = web.StreamResponse(
                    status=upstream_response.status,
                    reason=upstream_response.reason,
                    headers=_forward_headers(upstream_response.headers.items()),
                )
                await response.prepare(request)
                async for chunk in upstream_response.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
                return response
        except aiohttp.ClientConnectionError:
            return web.json_response(
                {"message": "An invalid response was received from the upstream server"}, status=502
            )

    app.cleanup_ctx.append(session_ctx)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def _role_jwt_for_sb_tokens(frame: str, keys: ProjectKeys) -> str:
    """Clients send their API key as a channel's `access_token` when no one is signed in; with an
    `sb_…` key, Realtime acts with the key's role. The stand-in knows JWTs only, so the frame
    (serializer 1.0.0: an object; 2.0.0: [join_ref, ref, topic, event, payload]) gets the role's
    JWT instead. Other frames pass untouched."""
    if '"sb_' not in frame:
        return frame
    try:
        message = json.loads(frame)
    except ValueError:
        return frame
    payload = message[4] if isinstance(message, list) and len(message) == 5 else message.get("payload")
    token = payload.get("access_token") if isinstance(payload, dict) else None
    if not isinstance(token, str) or not token.startswith("sb_"):
        return frame
    role = keys.role_of_api_key(token)
    if role is None:
        return frame  # Realtime refuses it
    assert isinstance(payload, dict)
    payload["access_token"] = keys.role_jwt(role)
    return json.dumps(message)


def realtime_app(upstream: str, keys: ProjectKeys) -> web.Application:
    """/realtime/v1/websocket to the Realtime stand-in (`upstream`: its http://host:port).

    Realtime checks the key itself, and knows JWTs only: an `sb_…` apikey is passed on as the
    equivalent role JWT, as Supabase's gateway does, and so is an `sb_…` channel access token."""
    app = web.Application()

    async def session_ctx(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as session:
            app[SESSION] = session
            yield

    async def websocket(request: web.Request) -> web.StreamResponse:
        query = dict(request.query)
        apikey = query.get("apikey") or request.headers.get("apikey") or ""
        role = keys.role_of_api_key(apikey) if apikey else None
        if apikey.startswith("sb_") and role is not None:
            query["apikey"] = keys.role_jwt(role)
        elif apikey and "apikey" not in query:
            query["apikey"] = apikey
        target = upstream.replace("http://", "ws://", 1).rstrip("/") + request.path + "?" + urlencode(query)
        try:
            inner = await app[SESSION].ws_connect(target, autoping=False, max_msg_size=0)
        except aiohttp.WSServerHandshakeError as exc:
            return web.json_response({"message": exc.message}, status=exc.status)
        except aiohttp.ClientConnectionError:
            return web.json_response(
                {"message": "An invalid response was received from the upstream server"}, status=502
            )
        outer = web.WebSocketResponse(autoping=False, max_msg_size=0)
        await outer.prepare(request)

        async def pump(
            source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
            sink: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
        ) -> None:
            from_client = source is outer
            async for message in source:
                if message.type == aiohttp.WSMsgType.TEXT:
                    text = _role_jwt_for_sb_tokens(message.data, keys) if from_client else message.data
                    await sink.send_str(text)
                elif message.type == aiohttp.WSMsgType.BINARY:
                    await sink.send_bytes(message.data)
                elif message.type == aiohttp.WSMsgType.PING:
                    await sink.ping(message.data)
                elif message.type == aiohttp.WSMsgType.PONG:
                    await sink.pong(message.data)
            # One side closed: close the other with the same code.
            code = source.close_code or aiohttp.WSCloseCode.GOING_AWAY
            await sink.close(code=code)

        tasks = [asyncio.create_task(pump(outer, inner)), asyncio.create_task(pump(inner, outer))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, ConnectionError, RuntimeError):
                    await task
            await inner.close()
            await outer.close()
        return outer

    app.cleanup_ctx.append(session_ctx)
    app.router.add_get("/websocket", websocket)
    return app
