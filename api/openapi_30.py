"""The API's OpenAPI document written as OpenAPI 3.0, for the documentation pages only.

FastAPI writes OpenAPI 3.1 (JSON Schema 2020-12). Swagger UI 5 reads a 3.1 document through
ApiDOM, which takes most of a second on this document before the page lists an operation;
a 3.0 document takes its older, direct path. ``/openapi.json`` stays 3.1 for clients,
generators and ReDoc; ``/docs`` reads the same operations and schemas from
``/docs/openapi.json``, written here by rules that keep their meaning:

- ``anyOf: [S, {type: null}]`` (an optional value) becomes S with ``nullable: true`` (a
  reference is wrapped in ``allOf``, since 3.0 ignores anything beside ``$ref``; 3.0.3 gives
  ``nullable`` its effect only beside a ``type``, so such a property is marked, as Swagger UI
  shows it, rather than enforced: the copy is for reading, clients use ``/openapi.json``);
- ``type: [T, "null"]`` becomes ``type: T`` with ``nullable: true``;
- ``const: v`` becomes ``enum: [v]``;
- numeric ``exclusiveMinimum``/``exclusiveMaximum`` become ``minimum``/``maximum`` with the
  boolean flag (beside an inclusive bound, the stricter of the two is kept);
- a schema's ``examples: [a, …]`` becomes ``example: a`` (media types and parameters keep
  their ``examples`` map, which means the same in both versions);
- ``contentMediaType`` (a file in a multipart form) becomes ``format: binary``;
- ``prefixItems`` (a fixed-length tuple) becomes ``items`` allowing any of its members, with
  ``minItems``/``maxItems``: 3.0 cannot say which position holds which.

Anything 3.0 has no word for is refused (:class:`ValueError` naming where), so a schema the
rules above do not cover is found by the test that converts the whole document.
"""

from __future__ import annotations

import copy
from typing import Any

# Keys of a Schema Object whose value is a schema, a list of schemas or a map of schemas.
_ONE = ("items", "not", "additionalProperties")
_MANY = ("allOf", "anyOf", "oneOf")
_MAP = ("properties",)
# JSON Schema 2020-12 keywords with no OpenAPI 3.0 equivalent the rules above write for.
_REFUSED = ("$defs", "if", "then", "else", "dependentSchemas", "dependentRequired",
            "patternProperties", "unevaluatedProperties", "unevaluatedItems", "contains",
            "propertyNames", "$dynamicRef", "$anchor")


def downgrade(document: dict[str, Any]) -> dict[str, Any]:
    """A 3.0.3 copy of a FastAPI 3.1 ``document`` (the argument is not changed)."""
    doc = copy.deepcopy(document)
    doc["openapi"] = "3.0.3"
    doc.get("info", {}).pop("summary", None)
    doc.get("info", {}).get("license", {}).pop("identifier", None)
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        _schema(schema, f"components.schemas.{name}")
    for key, kind in (("parameters", _parameter), ("requestBodies", _body),
                      ("responses", _response), ("headers", _parameter)):
        for name, item in doc.get("components", {}).get(key, {}).items():
            kind(item, f"components.{key}.{name}")
    for path, item in doc.get("paths", {}).items():
        for param in item.get("parameters", []):
            _parameter(param, f"{path}.parameters")
        for method, op in item.items():
            if not isinstance(op, dict) or method == "parameters":
                continue
            where = f"{method.upper()} {path}"
            for param in op.get("parameters", []):
                _parameter(param, f"{where} parameter {param.get('name', '?')}")
            if "requestBody" in op:
                _body(op["requestBody"], f"{where} requestBody")
            for status, response in op.get("responses", {}).items():
                _response(response, f"{where} {status}")
    return doc


def _parameter(param: dict[str, Any], where: str) -> None:
    if "schema" in param:
        _schema(param["schema"], where)
    _content(param.get("content", {}), where)


def _body(body: dict[str, Any], where: str) -> None:
    _content(body.get("content", {}), where)


def _response(response: dict[str, Any], where: str) -> None:
    _content(response.get("content", {}), where)
    for name, header in response.get("headers", {}).items():
        _parameter(header, f"{where} header {name}")


def _content(content: dict[str, Any], where: str) -> None:
    for media, item in content.items():
        if "schema" in item:
            _schema(item["schema"], f"{where} {media}")


def _schema(s: dict[str, Any], where: str) -> None:
    """Rewrite the schema ``s`` in place, then the schemas inside it."""
    _nullable(s, where)
    for key in _REFUSED:        # after _nullable: what it merged in is checked too
        if key in s:
            raise ValueError(f"{where}: OpenAPI 3.0 has no '{key}'")
    if "const" in s:
        s["enum"] = [s.pop("const")]
    for key, bound, stricter in (("exclusiveMinimum", "minimum", max),
                                 ("exclusiveMaximum", "maximum", min)):
        value = s.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            # JSON Schema allows both bounds; 3.0 has one, exclusive or not: the stricter.
            if bound in s and stricter(s[bound], value) != value:
                del s[key]
            else:
                s[bound], s[key] = value, True
    if "examples" in s:
        examples = s.pop("examples")
        if isinstance(examples, list) and examples:
            s["example"] = examples[0]
    if "contentMediaType" in s:
        s.pop("contentMediaType")
        s.pop("contentEncoding", None)
        s["format"] = "binary"
    if "prefixItems" in s:
        members = s.pop("prefixItems")
        s.setdefault("minItems", len(members))
        s.setdefault("maxItems", len(members))
        s["items"] = members[0] if len(members) == 1 else {"anyOf": members}
    for key in _ONE:
        if isinstance(s.get(key), dict):
            _schema(s[key], f"{where}.{key}")
    for key in _MANY:
        for i, sub in enumerate(s.get(key, [])):
            _schema(sub, f"{where}.{key}[{i}]")
    for key in _MAP:
        for name, sub in s.get(key, {}).items():
            _schema(sub, f"{where}.{key}.{name}")


def _nullable(s: dict[str, Any], where: str) -> None:
    """``anyOf``/``oneOf`` with a null member, or a list ``type`` with "null": 3.0's nullable."""
    kind = s.get("type")
    if isinstance(kind, list):
        rest = [k for k in kind if k != "null"]
        if len(rest) != 1:
            raise ValueError(f"{where}: OpenAPI 3.0 has no type list {kind}")
        s["type"] = rest[0]
        if len(rest) < len(kind):
            s["nullable"] = True
    for key in ("anyOf", "oneOf"):
        members = s.get(key)
        if not members or not any(m == {"type": "null"} for m in members):
            continue
        rest = [m for m in members if m != {"type": "null"}]
        s["nullable"] = True
        if len(rest) > 1:
            s[key] = rest
            continue
        del s[key]
        (only,) = rest
        if "$ref" in only:
            s["allOf"] = [only]
        else:
            for k, v in only.items():
                s.setdefault(k, v)
            _nullable(s, where)     # the member may itself have been optional
