"""Where the local Auth's e-mailed links may send people (GoTrue's IsRedirectURLValid): back to
the site, to any port of a loopback address (RFC 8252 7.3; the dashboard's dev and test servers
use their own ports), or to an allowed URL; anywhere else falls back to the site URL."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from devstack.gateway.auth.links import EmailLinks


def target(redirect_to: str | None, site: str = "http://127.0.0.1:3000", allowed: tuple[str, ...] = ()) -> str:
    links = SimpleNamespace(settings=SimpleNamespace(site_url=site, additional_redirect_urls=allowed))
    return EmailLinks.redirect_target(links, redirect_to)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "redirect_to",
    [
        "http://127.0.0.1:3000/reset-password",
        "http://127.0.0.1:45123/accept-invite?invitation=abc",
        "http://[::1]:8080/x",
    ],
)
def test_the_site_and_loopback_addresses_on_any_port_are_allowed(redirect_to: str) -> None:
    assert target(redirect_to) == redirect_to


def test_localhost_is_the_site_on_any_port_only_when_the_site_is_localhost() -> None:
    assert target("http://localhost:5173/r", "http://localhost:3000") == "http://localhost:5173/r"
    assert target("http://localhost:5173/r") == "http://127.0.0.1:3000"


def test_a_real_site_keeps_its_port_and_scheme_and_the_allow_list_is_matched_without_the_fragment() -> None:
    site = "https://app.hotel.example"
    assert target("https://app.hotel.example/reset", site) == "https://app.hotel.example/reset"
    assert target("https://app.hotel.example:8443/reset", site) == site
    assert target("http://app.hotel.example/reset", site) == site
    allowed = ("https://preview.hotel.example/**",)
    assert target("https://preview.hotel.example/a#frag", site, allowed) == "https://preview.hotel.example/a#frag"


@pytest.mark.parametrize(
    "redirect_to",
    ["https://evil.example/", "http://2130706433/", "http://10.0.0.1/", "\thttps://evil.example/", None, ""],
)
def test_anything_else_falls_back_to_the_site(redirect_to: str | None) -> None:
    assert target(redirect_to) == "http://127.0.0.1:3000"
