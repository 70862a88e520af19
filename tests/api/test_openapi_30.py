"""The OpenAPI 3.0 copy the documentation pages read: a valid 3.0 document with the same
operations, parameters and schemas as /openapi.json, written by rules that keep their meaning."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from wangge.api.app import create_app
from wangge.api.openapi_30 import downgrade
from wangge.settings import Settings


def _document(*schemas: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1", "summary": "3.1 only"},
            "paths": {}, "components": {"schemas": {f"S{i}": s for i, s in enumerate(schemas)}}}


def _one(schema: dict[str, Any]) -> dict[str, Any]:
    return downgrade(_document(schema))["components"]["schemas"]["S0"]


def test_optional_values_become_nullable() -> None:
    assert _one({"anyOf": [{"type": "string", "maxLength": 4}, {"type": "null"}],
                 "title": "Code"}) == {"type": "string", "maxLength": 4, "nullable": True,
                                       "title": "Code"}
    assert _one({"anyOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}]}) == \
        {"allOf": [{"$ref": "#/components/schemas/X"}], "nullable": True}
    assert _one({"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]}) == \
        {"anyOf": [{"type": "integer"}, {"type": "string"}], "nullable": True}
    assert _one({"type": ["number", "null"]}) == {"type": "number", "nullable": True}
    # inside properties, items and additionalProperties too
    nested = _one({"type": "object", "properties": {"a": {"type": "array", "items": {
        "anyOf": [{"type": "string"}, {"type": "null"}]}}},
        "additionalProperties": {"anyOf": [{"type": "integer"}, {"type": "null"}]}})
    assert nested["properties"]["a"]["items"] == {"type": "string", "nullable": True}
    assert nested["additionalProperties"] == {"type": "integer", "nullable": True}


def test_json_schema_words_become_their_3_0_forms() -> None:
    assert _one({"const": "grid"}) == {"enum": ["grid"]}
    assert _one({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 90}) == \
        {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 90,
         "exclusiveMaximum": True}
    assert _one({"type": "number", "minimum": 1, "exclusiveMinimum": 0}) == \
        {"type": "number", "minimum": 1}
    assert _one({"type": "number", "minimum": 0, "exclusiveMinimum": 0}) == \
        {"type": "number", "minimum": 0, "exclusiveMinimum": True}
    assert _one({"type": "number", "maximum": 5, "exclusiveMaximum": 9}) == \
        {"type": "number", "maximum": 5}
    assert _one({"type": "integer", "examples": [300, 500]}) == {"type": "integer",
                                                                 "example": 300}
    assert _one({"type": "string", "contentMediaType": "application/octet-stream"}) == \
        {"type": "string", "format": "binary"}
    assert _one({"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}]}) == \
        {"type": "array", "minItems": 2, "maxItems": 2,
         "items": {"anyOf": [{"type": "number"}, {"type": "number"}]}}
    assert "summary" not in downgrade(_document())["info"]


@pytest.mark.parametrize("word", ["$defs", "if", "patternProperties", "unevaluatedProperties"])
@pytest.mark.parametrize("optional", [False, True])
def test_what_3_0_cannot_say_is_refused_with_where(word: str, optional: bool) -> None:
    schema = {"anyOf": [{word: {}}, {"type": "null"}]} if optional else {word: {}}
    doc = _document({"type": "object", "properties": {"a": schema}})
    with pytest.raises(ValueError, match=rf"components\.schemas\.S0\.properties\.a: .*"
                                         rf"'{re.escape(word)}'"):
        downgrade(doc)


def test_the_original_is_left_as_it_was() -> None:
    doc = _document({"anyOf": [{"type": "string"}, {"type": "null"}]})
    downgrade(doc)
    assert doc["components"]["schemas"]["S0"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}


def test_the_docs_document_is_valid_3_0_with_every_operation(tmp_path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}", _env_file=None))
    client = TestClient(app)
    full = client.get("/openapi.json").json()
    docs = client.get("/docs/openapi.json").json()
    assert full["openapi"].startswith("3.1") and docs["openapi"] == "3.0.3"
    validate(docs)                      # openapi-spec-validator: the OpenAPI 3.0 schema
    with pytest.raises(OpenAPIValidationError):  # and the 3.1 document does not pass as 3.0
        validate({**full, "openapi": "3.0.3"})
    assert docs["paths"].keys() == full["paths"].keys()
    for path, item in full["paths"].items():
        assert docs["paths"][path].keys() == item.keys(), path
        for method, op in item.items():
            mine = docs["paths"][path][method]
            assert [p["name"] for p in mine.get("parameters", [])] == \
                [p["name"] for p in op.get("parameters", [])], (method, path)
            assert mine["responses"].keys() == op["responses"].keys(), (method, path)
            assert mine.get("security") == op.get("security"), (method, path)
    assert docs["components"]["schemas"].keys() == full["components"]["schemas"].keys()
    assert docs["components"]["securitySchemes"] == full["components"]["securitySchemes"]
    assert '"null"' not in client.get("/docs/openapi.json").text


def test_behind_a_prefix_the_copy_names_the_same_server_as_the_original(tmp_path) -> None:
    """Served under a proxy's prefix, "Try it out" in /docs calls the API under it."""
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}", _env_file=None))
    client = TestClient(app, root_path="/wangge")
    full = client.get("/openapi.json").json()
    docs = client.get("/docs/openapi.json").json()
    assert docs["servers"] == full["servers"] == [{"url": "/wangge"}]
    assert "servers" not in TestClient(app).get("/docs/openapi.json").json()
