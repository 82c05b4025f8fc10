"""docs/openapi.yaml for tests: the document, and a small validator of answers against its
schemas (the subset of JSON Schema 2020-12 the document uses: type, enum, required,
properties, additionalProperties, items, oneOf, $ref, format date-time), so that a test can
check that what the API returns is what the document promises without another dependency."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

OPENAPI = Path(__file__).resolve().parents[1] / "docs" / "openapi.yaml"
TYPES = {"string": str, "object": dict, "array": list, "boolean": bool, "null": type(None)}


def load_spec() -> dict:
    return yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


def resolve(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def problems(spec: dict, schema: dict, value: Any, where: str = "$") -> list[str]:
    """Why value breaks schema, one line each; [] when it conforms."""
    schema = resolve(spec, schema)
    if "oneOf" in schema:
        matching = [option for option in schema["oneOf"] if not problems(spec, option, value, where)]
        return [] if len(matching) == 1 else [f"{where}: matches {len(matching)} of oneOf"]
    found: list[str] = []
    if "type" in schema:
        allowed = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is(value, name) for name in allowed):
            return [f"{where}: {value!r} is not {allowed}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} not in {schema['enum']}")
    if schema.get("format") == "date-time" and isinstance(value, str):
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            found.append(f"{where}: {value!r} is not a date-time")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        found += [f"{where}: missing {name}" for name in schema.get("required", ()) if name not in value]
        if schema.get("additionalProperties") is False:
            found += [f"{where}: unexpected {name}" for name in value if name not in properties]
        for name, member in value.items():
            if name in properties:
                found += problems(spec, properties[name], member, f"{where}.{name}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += problems(spec, schema["items"], item, f"{where}[{index}]")
    return found


def _is(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, TYPES[name])


def response_schema(spec: dict, path: str, method: str, status: int) -> dict | None:
    """The JSON schema documented for this answer; None when the status is not documented."""
    operation = spec["paths"][path][method.lower()]
    response = operation["responses"].get(str(status))
    if response is None:
        return None
    return resolve(spec, response)["content"]["application/json"]["schema"]
