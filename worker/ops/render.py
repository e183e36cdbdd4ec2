"""Output of the operator CLI: aligned text tables for people, JSON for scripts."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import textwrap
import uuid
from collections.abc import Callable, Sequence
from typing import Any

Row = dict[str, Any]
Column = tuple[str, Callable[[Row], object]]


def _json_default(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def to_json(value: object) -> str:
    return json.dumps(value, default=_json_default, indent=2, ensure_ascii=False)


def timestamp(value: dt.datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def precise_time(value: dt.datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%fZ")[:-4] + "Z"


def ago(value: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """How long ago, coarsely: 45s, 12m, 3h05m, 2d04h."""
    if value is None:
        return "-"
    seconds = int(((now or dt.datetime.now(dt.UTC)) - value).total_seconds())
    if seconds < 0:
        return "now"
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def number(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, decimal.Decimal | float):
        return f"{float(value):.4g}"
    return str(value)


def clip(text: object, width: int) -> str:
    flat = " ".join(str(text).split()) if text is not None else "-"
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def table(rows: Sequence[Row], columns: Sequence[Column], wrap_last: int | None = None) -> str:
    """Columns padded to their widest cell; the last column is left unpadded and, with
    wrap_last, wrapped at that width onto lines indented under it (nothing is cut off)."""
    cells = [[str(get(row)) for _, get in columns] for row in rows]
    headers = [header for header, _ in columns]
    widths = [max([len(headers[i]), *(len(c[i]) for c in cells)]) for i in range(len(columns) - 1)]
    indent = sum(w + 2 for w in widths)
    lines = []
    for line in [headers, *cells]:
        padded = [cell.ljust(widths[i]) for i, cell in enumerate(line[:-1])]
        last = [line[-1]] if wrap_last is None else textwrap.wrap(line[-1], wrap_last) or [""]
        lines.append("  ".join([*padded, last[0]]).rstrip())
        lines.extend(" " * indent + more for more in last[1:])
    return "\n".join(lines)
