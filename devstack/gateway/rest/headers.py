"""The request headers PostgREST reads: Prefer, Accept, Accept-/Content-Profile and Range."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from devstack.gateway.rest.errors import ApiError, not_implemented

OBJECT = "application/vnd.pgrst.object+json"
JSON = "application/json"


@dataclass
class Preferences:
    # None: PostgREST's default for the verb (minimal for writes)
    return_: Literal["minimal", "representation", "headers-only"] | None = None
    count: bool = False
    resolution: Literal["merge-duplicates", "ignore-duplicates"] | None = None


def preferences(values: Sequence[str]) -> Preferences:
    """Prefer (RFC 7240) as PostgREST reads it; unknown preferences are ignored, as PostgREST does
    under its default `handling=lenient`, but known ones the stand-in cannot honour are refused."""
    prefs = Preferences()
    strict = False
    invalid: list[str] = []
    for header in values:
        for raw in header.split(","):
            token = raw.strip()
            if not token:
                continue
            name, _, value = token.partition("=")
            name, value = name.strip().lower(), value.strip()
            if name == "return" and value in ("minimal", "representation", "headers-only"):
                prefs.return_ = value  # type: ignore[assignment]
            elif name == "count" and value == "exact":
                prefs.count = True
            elif name == "count" and value in ("planned", "estimated"):
                raise not_implemented(f"Prefer: count={value} (use count=exact)")
            elif name == "resolution" and value in ("merge-duplicates", "ignore-duplicates"):
                prefs.resolution = value  # type: ignore[assignment]
            elif name == "tx" and value in ("commit", "rollback"):
                # PostgREST honours tx only with db-tx-end = *-allow-override; Supabase keeps the
                # default (commit), under which the preference is ignored.
                pass
            elif name == "handling" and value in ("strict", "lenient"):
                strict = value == "strict"
            elif name in ("missing", "max-affected", "timezone", "params"):
                raise not_implemented(f"Prefer: {token}")
            else:
                invalid.append(token)
    if strict and invalid:
        raise ApiError(
            400,
            "PGRST122",
            "Invalid preferences given with handling=strict",
            "Invalid preferences: " + ", ".join(invalid),
        )
    return prefs


def wants_object(accept: str | None) -> bool:
    """True for a singular answer; raises PGRST107 when no acceptable media type is served."""
    if not accept:
        return False
    offered = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        extra = []
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
            elif p:
                extra.append(p)
        if q > 0:
            offered.append((q, media.lower(), extra))
    offered.sort(key=lambda o: -o[0])
    for _, media, extra in offered:
        if media in (OBJECT, "application/vnd.pgrst.object"):
            if extra:
                raise not_implemented(f"media type parameters ({media};{';'.join(extra)})")
            return True
        if media in (JSON, "application/*", "*/*", "application/vnd.pgrst.array+json"):
            return False
    raise ApiError(406, "PGRST107", "None of these media types are available: " + ", ".join(o[1] for o in offered))


def profile(headers: Mapping[str, str], name: str, schemas: Sequence[str]) -> str:
    """The schema a request addresses (Accept-Profile for reads, Content-Profile for writes)."""
    wanted = headers.get(name)
    if wanted is None:
        return schemas[0]
    if wanted not in schemas:
        raise ApiError(
            406,
            "PGRST106",
            f"Invalid schema: {wanted}",
            hint="Only the following schemas are exposed: " + ", ".join(schemas),
        )
    return wanted


def range_header(value: str | None) -> tuple[int, int | None] | None:
    """`Range: 0-9` (Range-Unit items); a malformed one is ignored, as PostgREST does."""
    if not value:
        return None
    m = re.fullmatch(r"\s*(?:items=)?(\d+)-(\d*)\s*", value)
    if not m:
        return None
    lower = int(m.group(1))
    upper = int(m.group(2)) if m.group(2) else None
    if upper is not None and lower > upper:
        raise ApiError(
            416,
            "PGRST103",
            "Requested range not satisfiable",
            "The lower boundary must be lower than or equal to the upper boundary in the Range header.",
        )
    return lower, upper
