"""WAHA's OpenAPI document (version 2026.9.2) turned into request and payload validators.

What is read is the repository's contract, shared/specs/waha-contract.json: the part of WAHA's
document the project relies on, extracted and checked by waha_contract.py (so a clone needs
nothing beside it); WAHA_OPENAPI_SPEC may point at the full document instead.

The simulator checks every request against the operation it targets, so a client that drifts
from WAHA's published API fails a test instead of failing in production.

Two deliberate choices:
- Strict objects. An object schema with `properties` accepts no other keys, as WAHA does when
  run with `WAHA_HTTP_STRICT_MODE=true` (its NestJS ValidationPipe then uses
  `forbidNonWhitelisted`). By default WAHA silently drops unknown keys, which would hide a typo
  such as `chatID`.
- Errata. The document is generated from NestJS decorators and contradicts its own examples in
  a few places; `_schema()` repairs those that touch what the product uses, so that requests
  WAHA accepts (and the document's session and webhook examples) validate:
    * `type: object` on values that are strings or booleans (the webhook `event` enum,
      `mimetype` defaults): the `type` is dropped and the `enum`/`default` stands;
    * `WebhookConfig.events` declares `items: {type: object}` while every example (and WAHA
      itself) uses event names: items are strings;
    * `required: true` on a property (OpenAPI 2 style) means "listed in the parent's
      `required`".
  OpenAPI 3.0's `nullable: true` becomes JSON Schema's `null` type; annotations are dropped.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs in the lock file

from devstack.simulators.waha_contract import CONTRACT

# Keys that describe a schema without constraining it.
_ANNOTATIONS = frozenset(
    {"example", "examples", "description", "title", "deprecated", "xml", "externalDocs", "readOnly", "writeOnly"}
)
_NESTED_MAPS = ("properties", "patternProperties")
_NESTED_ONE = ("items", "additionalProperties", "not")
_NESTED_MANY = ("allOf", "anyOf", "oneOf")

JsonSchema = dict[str, Any]
_COMPONENT = "#/components/schemas/"


def find_spec() -> Path:
    """$WAHA_OPENAPI_SPEC (WAHA's full document) if set, else the repository's contract."""
    override = os.environ.get("WAHA_OPENAPI_SPEC")
    path = Path(override) if override else CONTRACT
    if not path.is_file():
        raise FileNotFoundError(f"WAHA OpenAPI document not found: {path}")
    return path


def _schema(node: Mapping[str, Any], *, strict: bool) -> JsonSchema:
    """One OpenAPI 3.0 schema object as JSON Schema (see the module docstring)."""
    if "$ref" in node:
        # OpenAPI 3.0 ignores every sibling of $ref.
        return {"$ref": node["$ref"]}
    out: JsonSchema = {}
    hoisted: list[str] = []
    for key, value in node.items():
        if key in _ANNOTATIONS or key == "nullable":
            continue
        if key == "required" and not isinstance(value, list):
            continue  # property-level `required: true`, hoisted by the parent below
        if key in _NESTED_MAPS:
            out[key] = {name: _schema(sub, strict=strict) for name, sub in value.items()}
            if key == "properties":
                hoisted = [name for name, sub in value.items() if sub.get("required") is True]
        elif key in _NESTED_ONE and isinstance(value, Mapping):
            out[key] = _schema(value, strict=strict)
        elif key in _NESTED_MANY:
            out[key] = [_schema(sub, strict=strict) for sub in value]
        else:
            out[key] = value
    if hoisted:
        out["required"] = sorted({*out.get("required", []), *hoisted})
    if out.get("type") == "object" and ("enum" in out or ("default" in out and not isinstance(out["default"], dict))):
        del out["type"]
    if node.get("nullable") is True:
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        if "type" not in out and "enum" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
    if strict and out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def _apply_errata(schemas: dict[str, JsonSchema]) -> None:
    events = schemas["WebhookConfig"]["properties"]["events"]
    events["items"] = {"type": "string"}


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path | query | header
    required: bool
    schema: JsonSchema

    @property
    def kind(self) -> str:
        kind = self.schema.get("type", "string")
        return kind if isinstance(kind, str) else "string"

    @functools.cached_property
    def validator(self) -> jsonschema.protocols.Validator:
        # Built once: building a validator per request was a fifth of the simulator's CPU at
        # benchmark rates.
        return jsonschema.Draft7Validator(self.schema)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    parameters: Mapping[str, Parameter]
    body_required: bool
    body: jsonschema.protocols.Validator | None
    deprecated: bool
    secured: bool  # needs X-Api-Key

    def check(self, query: Mapping[str, Sequence[str]], body: Any, has_body: bool) -> list[str]:
        """What is wrong with a request to this operation, as WAHA's 400 would list it.

        `body` is the parsed JSON (or a marker string when it is not JSON), `has_body` whether
        any body was sent."""
        errors: list[str] = []
        for name, param in self.parameters.items():
            if param.location != "query":
                continue
            values = query.get(name)
            if not values:
                if param.required and "default" not in param.schema:
                    errors.append(f"query parameter '{name}' is required")
                continue
            errors.extend(_check_query_value(param, values))
        for name in query:
            known = self.parameters.get(name)
            if known is None or known.location != "query":
                errors.append(f"query parameter '{name}' is not defined by {self.operation_id}")
        if self.body is None:
            if has_body and body not in (None, {}):
                errors.append(f"{self.operation_id} takes no request body")
            return errors
        if not has_body:
            if self.body_required:
                errors.append("a JSON request body is required")
            return errors
        if isinstance(body, _NotJson):
            errors.append(f"the request body is not JSON: {body.reason}")
            return errors
        errors.extend(_describe(error) for error in self.body.iter_errors(body))
        return errors


class _NotJson(str):
    @property
    def reason(self) -> str:
        return str(self)


def not_json(reason: str) -> Any:
    """Marks a body that could not be parsed, for Operation.check."""
    return _NotJson(reason)


def _describe(error: jsonschema.ValidationError) -> str:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return f"body{where}: {error.message}"


def _check_query_value(param: Parameter, values: Sequence[str]) -> list[str]:
    kind = param.kind
    if kind != "array" and len(values) > 1:
        return [f"query parameter '{param.name}' given {len(values)} times"]
    parsed: Any
    if kind == "array":
        parsed = [v for value in values for v in value.split(",")]
    elif kind == "boolean":
        if values[0] not in ("true", "false"):
            return [f"query parameter '{param.name}' must be true or false"]
        parsed = values[0] == "true"
    elif kind in ("number", "integer"):
        try:
            parsed = int(values[0]) if kind == "integer" else float(values[0])
        except ValueError:
            return [f"query parameter '{param.name}' must be a {kind}"]
    else:
        parsed = values[0]
    return [f"query parameter '{param.name}': {e.message}" for e in param.validator.iter_errors(parsed)]


class OpenApiSpec:
    """Validators for the operations and component schemas of one WAHA OpenAPI document."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._document = document
        self.version: str = document["info"]["version"]
        schemas = {name: _schema(schema, strict=True) for name, schema in document["components"]["schemas"].items()}
        _apply_errata(schemas)
        # Every validator resolves "#/components/schemas/..." against this root.
        self._root: JsonSchema = {"components": {"schemas": schemas}}
        self._operations: dict[tuple[str, str], Operation] = {}
        # (literal segment count, regex, template) per method; most literal templates first, so
        # /api/sessions/start wins over /api/sessions/{session}.
        self._routes: dict[str, list[tuple[re.Pattern[str], str]]] = {}
        for path, item in document["paths"].items():
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method == "parameters":
                    continue
                operation = self._operation(method.upper(), path, op, shared)
                self._operations[(operation.method, path)] = operation
                self._routes.setdefault(operation.method, []).append((_template_regex(path), path))
        for routes in self._routes.values():
            routes.sort(key=lambda route: route[1].count("{"))
        self.webhook_events: tuple[str, ...] = tuple(document.get("webhooks", {}))
        self._webhook_refs: dict[str, str] = {}
        for event, item in document.get("webhooks", {}).items():
            ref = item["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            self._webhook_refs[event] = ref

    def _validator(self, schema: JsonSchema) -> jsonschema.protocols.Validator:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(_COMPONENT) and len(schema) == 1:
            # Inline the top-level reference: resolving it on every request costs more than
            # checking a small body (the simulator validates ~1,000 requests a second).
            schema = self._root["components"]["schemas"][ref.removeprefix(_COMPONENT)]
        return jsonschema.Draft7Validator({**schema, **self._root})

    def _operation(self, method: str, path: str, op: Mapping[str, Any], shared: list[Any]) -> Operation:
        params: dict[str, Parameter] = {}
        for raw in [*shared, *op.get("parameters", [])]:
            schema = _schema(raw.get("schema", {}), strict=True)
            params[raw["name"]] = Parameter(raw["name"], raw["in"], bool(raw.get("required")), schema)
        body_spec = op.get("requestBody")
        body = None
        body_required = False
        if body_spec is not None:
            body_required = bool(body_spec.get("required"))
            content = body_spec.get("content", {}).get("application/json")
            if content is not None:
                body = self._validator(_schema(content["schema"], strict=True))
        return Operation(
            method=method,
            path=path,
            operation_id=op.get("operationId", f"{method} {path}"),
            parameters=params,
            body_required=body_required,
            body=body,
            deprecated=bool(op.get("deprecated")),
            secured=bool(op.get("security")),
        )

    def operation(self, method: str, template: str) -> Operation | None:
        return self._operations.get((method.upper(), template))

    def match(self, method: str, path: str) -> Operation | None:
        """The operation a concrete request path belongs to, if the spec defines one."""
        for regex, template in self._routes.get(method.upper(), ()):
            if regex.fullmatch(path):
                return self._operations[(method.upper(), template)]
        return None

    def path_exists(self, path: str) -> bool:
        return any(regex.fullmatch(path) for routes in self._routes.values() for regex, _ in routes)

    def schema(self, name: str) -> jsonschema.protocols.Validator:
        """A validator for components/schemas/<name> (strict, errata applied)."""
        return self._validator({"$ref": f"#/components/schemas/{name}"})

    def webhook(self, event: str) -> jsonschema.protocols.Validator:
        """A validator for the body WAHA posts for one webhook event."""
        return self._validator({"$ref": self._webhook_refs[event]})

    def response(self, method: str, template: str, status: int) -> jsonschema.protocols.Validator | None:
        """A validator for an operation's JSON response, when the spec declares one."""
        return self._responses.get((method.upper(), template, status))

    @functools.cached_property
    def _responses(self) -> dict[tuple[str, str, int], jsonschema.protocols.Validator]:
        found: dict[tuple[str, str, int], jsonschema.protocols.Validator] = {}
        for path, item in self._document["paths"].items():
            for method, op in item.items():
                if method == "parameters":
                    continue
                for status, response in op.get("responses", {}).items():
                    content = response.get("content", {}).get("application/json")
                    if content is not None and status.isdigit():
                        schema = _schema(content["schema"], strict=True)
                        found[(method.upper(), path, int(status))] = self._validator(schema)
        return found


def _template_regex(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
    return re.compile(pattern)


@functools.cache
def _read(path: Path) -> Mapping[str, Any]:
    with path.open(encoding="utf-8") as f:
        document: Mapping[str, Any] = json.load(f)
    return document


@functools.cache
def load(path: Path | None = None) -> OpenApiSpec:
    """The parsed spec, converted once per process (about 0.1 s)."""
    return OpenApiSpec(_read(path or find_spec()))
