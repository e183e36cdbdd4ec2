"""Named SQL queries, loaded from `worker/sql/<domain>.sql`.

Each query starts with a `-- name: <identifier>` line; everything up to the next such line is
its text. Keeping SQL in .sql files lets it be read, linted and reviewed as SQL, and gives each
store one method per query.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


class QueryFileError(Exception):
    pass


@cache
def load(domain: str) -> dict[str, str]:
    """The queries of `worker/sql/<domain>.sql`, by name."""
    path = SQL_DIR / f"{domain}.sql"
    text = path.read_text()
    names = list(_NAME.finditer(text))
    if not names:
        raise QueryFileError(f"{path} has no '-- name:' queries")
    queries: dict[str, str] = {}
    for i, match in enumerate(names):
        end = names[i + 1].start() if i + 1 < len(names) else len(text)
        body = text[match.end() : end].strip().rstrip(";").strip()
        if match.group(1) in queries:
            raise QueryFileError(f"{path}: query {match.group(1)} is defined twice")
        if not body:
            raise QueryFileError(f"{path}: query {match.group(1)} is empty")
        queries[match.group(1)] = body
    return queries
