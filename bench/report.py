"""The results of a run: a table for people, JSON and Markdown files for the record."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from bench.common import Result
from devstack import paths


def environment(database_url: str) -> dict[str, Any]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "select current_setting('server_version'), current_setting('jit'), current_setting('shared_buffers'),"
            " current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes')"
        ).fetchone()
    assert row is not None
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=paths.ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": commit + ("+uncommitted changes" if dirty else ""),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "postgres": {
            "version": row[0],
            "jit": row[1],
            "shared_buffers": row[2],
            "fsync": row[3],
            "synchronous_commit": row[4],
            "full_page_writes": row[5],
            "durable": row[3] == "on" and row[4] == "on",
        },
    }


def _ratio(result: Result) -> str:
    return "-" if result.ratio is None else f"{result.ratio:,.2f}x"


def table(results: list[Result]) -> str:
    rows = [("benchmark", "result", "baseline (same run, same database)", "ratio")]
    rows += [(r.name, r.figure, r.baseline, _ratio(r)) for r in results]
    widths = [min(max(len(row[i]) for row in rows), 70) for i in range(4)]
    lines = []
    for n, row in enumerate(rows):
        cells = [textwrap.shorten(cell, widths[i], placeholder="...") for i, cell in enumerate(row)]
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(cells)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(results: list[Result], env: dict[str, Any], meta: dict[str, Any]) -> str:
    out = [
        "# Benchmark results",
        "",
        f"`make bench` on {env['date']} (commit {env['git_commit']}), {env['cpus']} CPUs, load average at start "
        f"{env['load_average_at_start']}, PostgreSQL {env['postgres']['version']} (jit {env['postgres']['jit']}, "
        f"shared_buffers {env['postgres']['shared_buffers']}, fsync {env['postgres']['fsync']}, "
        f"synchronous_commit {env['postgres']['synchronous_commit']}), "
        f"Python {env['python']}. The whole run took {meta['seconds']:.0f} s.",
        "",
        (
            "Durable settings (fsync and synchronous_commit on, as a Supabase database runs)."
            if env["postgres"].get("durable")
            else "**Fast settings (fsync or synchronous_commit off): write figures are flattered; "
            "a durable database (Supabase) will not reach them.**"
        ),
        "",
        "| benchmark | result | baseline (same run, same database) | ratio | how to read the ratio |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        out.append(f"| {r.name} | {r.figure} | {r.baseline} | {_ratio(r)} | {r.ratio_meaning} |")
    out += ["", "## Details", ""]
    for r in results:
        out.append(f"### {r.name}")
        out.append("")
        out += [f"- {note}" for note in r.notes]
        out.append("")
    out.append(f"Every number behind these lines is in `{meta['json_name']}`.")
    return "\n".join(out) + "\n"


def write(out: Path, results: list[Result], env: dict[str, Any], meta: dict[str, Any]) -> tuple[Path, Path]:
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out.with_suffix(".json"), out.with_suffix(".md")
    meta = {**meta, "json_name": json_path.name}
    document = {"environment": env, "run": meta, "results": [r.as_dict() for r in results]}
    json_path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    md_path.write_text(markdown(results, env, meta))
    return json_path, md_path
