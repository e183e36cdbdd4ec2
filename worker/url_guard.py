"""The outbound URL policy where the worker uses a tenant's URL (WAHA, PMS API, OAuth token URL).

The database refuses such URLs when they are saved (private.url_refusal); this checks them
again when they are used, and checks the addresses a name resolves to when the connection is
opened, because DNS can change after the URL was saved (or answer differently on purpose).

Allowed: https on port 443 to a public address. Refused: loopback, private, link-local (cloud
metadata), CGNAT, multicast, unspecified and reserved addresses, IPv4 and IPv6 (IPv4-mapped
included), and local-only names. `allow_local` (WORKER_ALLOW_LOCAL_URLS, local development
only) allows http, any port and any address. The cases: shared/vectors/outbound-urls.json.
"""

from __future__ import annotations

import errno
import ipaddress
import re
import socket
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp.abc import ResolveResult
from aiohttp.tracing import Trace

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_V4_REFUSED: list[tuple[ipaddress.IPv4Network, str]] = [
    (ipaddress.IPv4Network(net), reason)
    for net, reason in [
        ("0.0.0.0/8", "an unspecified address"),
        ("127.0.0.0/8", "a loopback address"),
        ("10.0.0.0/8", "a private address"),
        ("172.16.0.0/12", "a private address"),
        ("192.168.0.0/16", "a private address"),
        ("169.254.0.0/16", "a link-local address (cloud metadata lives here)"),
        ("100.64.0.0/10", "a carrier-grade NAT address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
        ("192.0.0.0/24", "a reserved address"),
        ("192.0.2.0/24", "a reserved address"),
        ("192.88.99.0/24", "a reserved address"),
        ("198.18.0.0/15", "a reserved address"),
        ("198.51.100.0/24", "a reserved address"),
        ("203.0.113.0/24", "a reserved address"),
    ]
]

_V6_REFUSED: list[tuple[ipaddress.IPv6Network, str]] = [
    (ipaddress.IPv6Network(net), reason)
    for net, reason in [
        ("::/128", "an unspecified address"),
        ("::1/128", "a loopback address"),
        ("::ffff:0:0/96", "an IPv4-mapped address"),
        ("fe80::/10", "a link-local address"),
        ("fc00::/7", "a private (unique local) address"),
        ("ff00::/8", "a multicast address"),
        ("2001::/23", "a reserved address"),
        ("2001:db8::/32", "a reserved address"),
        ("2002::/16", "a reserved address"),
        ("3fff::/20", "a reserved address"),
    ]
]
_V6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([/?#].*)?$", re.DOTALL)
_IPV6_AUTHORITY = re.compile(r"^\[([0-9A-Fa-f:.]+)\](?::([0-9]*))?$")
_AUTHORITY = re.compile(r"^([^:]*)(?::([0-9]*))?$")
_DNS_NAME = re.compile(r"^[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})*$")
_NUMERIC_LABEL = re.compile(r"^([0-9]+|0x[0-9a-f]*)$")
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DOTTED_QUAD = re.compile(rf"^{_OCTET}(\.{_OCTET}){{3}}$")
_LOCAL_SUFFIX = re.compile(r"\.(localhost|local|internal|intranet|lan|home\.arpa|localdomain)$")
_BAD_CHARACTERS = re.compile(r"[\s\x00-\x1f\x7f\\]")


def address_refusal(address: Address) -> str | None:
    """Why this address may not be called, or None. IPv6: global unicast only."""
    if isinstance(address, ipaddress.IPv4Address):
        return next((reason for net, reason in _V4_REFUSED if address in net), None)
    reason = next((reason for net, reason in _V6_REFUSED if address in net), None)
    if reason is None and address not in _V6_GLOBAL_UNICAST:
        return "a reserved address"
    return reason


def url_refusal(url: str, *, allow_local: bool) -> str | None:
    """Why this URL may not be called, or None (the same rules as private.url_refusal)."""
    if len(url) > 2048 or _BAD_CHARACTERS.search(url):
        return "it must be a URL without spaces or backslashes, at most 2048 characters"
    parts = _URL.match(url)
    if parts is None:
        return "it must be an absolute https:// URL"
    scheme, authority = parts.group(1).lower(), parts.group(2)
    if scheme != "https" and not (allow_local and scheme == "http"):
        return "it must use https"
    if "@" in authority:
        return "it must not contain a user name or password"
    address: Address | None = None
    if authority.startswith("["):
        v6 = _IPV6_AUTHORITY.match(authority)
        if v6 is None:
            return "its IPv6 address is malformed"
        try:
            address = ipaddress.IPv6Address(v6.group(1))
        except ValueError:
            return "its IPv6 address is malformed"
        host, port = v6.group(1), v6.group(2)
    else:
        plain = _AUTHORITY.match(authority)
        if plain is None:
            return "its host or port is malformed"
        host, port = plain.group(1).lower().removesuffix("."), plain.group(2)
        if not _DNS_NAME.match(host) or len(host) > 253:
            return "its host must be a plain DNS name (letters, digits, hyphens; IDNs as xn--) or an IP address"
        if _NUMERIC_LABEL.match(host.rsplit(".", 1)[-1]):
            if not _DOTTED_QUAD.match(host):
                return "an IPv4 address must be written as four decimal numbers (no octal, hex or short forms)"
            address = ipaddress.IPv4Address(host)
    if port:
        if len(port) > 5 or not 1 <= int(port) <= 65535:
            return "its port is malformed"
        if not allow_local and int(port) != 443:
            return "it must use the default https port (443)"
    if allow_local:
        return None
    if address is not None:
        reason = address_refusal(address)
        return None if reason is None else f"it points at {reason}"
    if "." not in host or _LOCAL_SUFFIX.search(host):
        return f"its host must be a public DNS name ({host} is a local name)"
    return None


class UrlRefused(aiohttp.InvalidURL):
    """A tenant's URL the policy refuses: a configuration error, nothing was sent."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(url, reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"the URL is not allowed: {self.reason}"


class AddressRefused(OSError):
    """A name that resolved to an address the policy refuses (found when connecting)."""

    def __init__(self, message: str) -> None:
        # As (errno, strerror): aiohttp's connector errors show the strerror.
        super().__init__(errno.EACCES, message)


def address_refused_in(exc: BaseException) -> AddressRefused | None:
    """The AddressRefused behind a client error (aiohttp and httpx wrap it), if any."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return None
        if isinstance(seen, AddressRefused):
            return seen
        os_error = getattr(seen, "os_error", None)  # aiohttp.ClientConnectorError keeps it here
        if isinstance(os_error, AddressRefused):
            return os_error
        seen = seen.__cause__ or seen.__context__
    return None


class GuardedConnector(aiohttp.TCPConnector):
    """Checks every address it is about to connect to, after DNS (and its cache) answered."""

    async def _resolve_host(self, host: str, port: int, traces: Sequence[Trace] | None = None) -> list[ResolveResult]:
        results = await super()._resolve_host(host, port, traces)
        for result in results:
            reason = address_refusal(ipaddress.ip_address(result["host"]))
            if reason is not None:
                raise AddressRefused(f"refused: {host} resolves to {result['host']}, {reason}")
        return results


async def _check_request_url(
    _session: aiohttp.ClientSession, _context: Any, params: aiohttp.TraceRequestStartParams
) -> None:
    reason = url_refusal(str(params.url), allow_local=False)
    if reason is not None:
        raise UrlRefused(str(params.url.with_query(None)), reason)


def guarded_session_options(*, allow_local: bool, **connector_options: Any) -> dict[str, Any]:
    """connector= and trace_configs= for an aiohttp.ClientSession that enforces the policy
    (or a plain connector when local URLs are allowed)."""
    if allow_local:
        return {"connector": aiohttp.TCPConnector(**connector_options)}
    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(_check_request_url)
    return {
        "connector": GuardedConnector(family=socket.AF_UNSPEC, **connector_options),
        "trace_configs": [trace],
    }
