"""The part of WAHA's OpenAPI document this project relies on, kept in the repository.

A clone has nothing beside it, so the WAHA simulator cannot read WAHA's full document (340 kB,
version 2026.9.2) from a team folder. The repository keeps `shared/specs/waha-contract.json`
instead, extracted from the full document by `extract()`:

- every path and method with its operationId, `security` and `deprecated`, so the simulator still
  tells an operation it does not simulate (501) from one WAHA does not have (404), and which of
  them need an API key;
- the operations the simulator serves (SIMULATED) in full: parameters, request body with its
  examples, responses;
- the webhooks it emits (WEBHOOKS);
- the component schemas all of that refers to, directly or not, and the security schemes.

Nothing is rewritten: each kept object is the document's own, so validation is unchanged for
what the project uses. `tests/test_waha_contract.py` checks the file is exactly what `extract()`
makes of the full document when one is given (WAHA_OPENAPI_SPEC); after adding a route to the
simulator, or for a new WAHA version, regenerate it:

    .venv/bin/python -m devstack.simulators.waha_contract /path/to/waha-openapi-<version>.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from devstack.paths import ROOT

CONTRACT = ROOT / "shared" / "specs" / "waha-contract.json"

# (method, path template) of every operation devstack/simulators/waha.py serves.
SIMULATED = frozenset(
    {
        ("GET", "/ping"),
        ("POST", "/api/sendText"),
        ("GET", "/api/contacts/check-exists"),
        ("GET", "/api/sessions"),
        ("POST", "/api/sessions"),
        ("GET", "/api/sessions/{session}"),
        ("PUT", "/api/sessions/{session}"),
        ("DELETE", "/api/sessions/{session}"),
        ("GET", "/api/sessions/{session}/me"),
        ("POST", "/api/sessions/{session}/start"),
        ("POST", "/api/sessions/{session}/stop"),
        ("POST", "/api/sessions/{session}/restart"),
        ("POST", "/api/sessions/{session}/logout"),
        ("GET", "/api/{session}/auth/qr"),
        ("POST", "/api/{session}/auth/request-code"),
        ("GET", "/api/{session}/chats/{chatId}/messages"),
        ("GET", "/api/{session}/chats/{chatId}/messages/{messageId}"),
    }
)
# The webhook events the simulator posts and the waha-webhook function handles.
WEBHOOKS = ("session.status", "message", "message.any", "message.ack")
# Schemas the tests validate against by name, besides those the operations refer to.
EXTRA_SCHEMAS = ("WAMessage",)
_OPERATION_STUB_KEYS = ("operationId", "deprecated", "security")
_REF = "#/components/schemas/"


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_REF):
                yield value.removeprefix(_REF)
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def extract(document: Mapping[str, Any]) -> dict[str, Any]:
    """The contract: a smaller OpenAPI document with the same answers for what the project uses."""
    paths: dict[str, dict[str, Any]] = {}
    for path, item in document["paths"].items():
        kept: dict[str, Any] = {}
        simulated_here = False
        for method, operation in item.items():
            if method == "parameters":
                continue
            if (method.upper(), path) in SIMULATED:
                kept[method] = operation
                simulated_here = True
            else:
                kept[method] = {k: operation[k] for k in _OPERATION_STUB_KEYS if k in operation}
        if simulated_here and "parameters" in item:
            kept["parameters"] = item["parameters"]
        paths[path] = kept
    missing = sorted(f"{m} {p}" for m, p in SIMULATED if m.lower() not in paths.get(p, {}))
    if missing:
        raise ValueError(f"the document lacks operations the simulator serves: {', '.join(missing)}")
    webhooks = {event: document["webhooks"][event] for event in WEBHOOKS}
    schemas = document["components"]["schemas"]
    names = {*_refs(paths), *_refs(webhooks), *EXTRA_SCHEMAS}
    pending = list(names)
    while pending:
        for ref in _refs(schemas[pending.pop()]):
            if ref not in names:
                names.add(ref)
                pending.append(ref)
    return {
        "openapi": document["openapi"],
        "info": {"title": document["info"]["title"], "version": document["info"]["version"]},
        "paths": paths,
        "webhooks": webhooks,
        "components": {
            "securitySchemes": document["components"].get("securitySchemes", {}),
            "schemas": {name: schemas[name] for name in sorted(names)},
        },
    }


def render(contract: Mapping[str, Any]) -> str:
    return json.dumps(contract, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="write shared/specs/waha-contract.json from WAHA's OpenAPI document")
    parser.add_argument("document", type=Path, help="WAHA's full OpenAPI document (JSON)")
    args = parser.parse_args(argv)
    contract = extract(json.loads(args.document.read_text(encoding="utf-8")))
    CONTRACT.parent.mkdir(parents=True, exist_ok=True)
    CONTRACT.write_text(render(contract), encoding="utf-8")
    print(f"{CONTRACT.relative_to(ROOT)}: WAHA {contract['info']['version']}, {len(contract['paths'])} paths")


if __name__ == "__main__":
    main()
