"""CAMARA's release documents (``../shared/camara``): where they are, their operations, and
their schemas as JSON Schema validators.

The documents are not part of the repository: CI puts ``shared/`` beside the clone, and
``CAMARA_DOCUMENTS`` names another folder. Tests skip, saying so, when none is there.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

REPO_ROOT = Path(__file__).resolve().parents[4]
MISSING = (
    "CAMARA's documents are not here: put shared/camara beside the clone "
    "(<clone>/../shared/camara) or name the folder in CAMARA_DOCUMENTS"
)


def documents_dir() -> Path:
    return Path(os.environ.get("CAMARA_DOCUMENTS") or REPO_ROOT.parent / "shared" / "camara")


def available() -> bool:
    return (documents_dir() / "SOURCES.txt").is_file()


@dataclass(frozen=True)
class Operation:
    document: str  # "sim-swap.yaml"
    operation_id: str
    method: str  # "POST"
    path: str  # "/sim-swap/v2/check" (the server's base path included)


@functools.cache
def document(name: str) -> dict[str, Any]:
    with (documents_dir() / name).open(encoding="utf-8") as handle:
        return dict(yaml.safe_load(handle))


def yaml_names() -> list[str]:
    return sorted(p.name for p in documents_dir().glob("*.yaml"))


def base_path(doc: dict[str, Any]) -> str:
    return str(doc["servers"][0]["url"]).replace("{apiRoot}", "")


@functools.cache
def operations() -> dict[str, Operation]:
    """Every operation of every document, by operationId."""
    found: dict[str, Operation] = {}
    for name in yaml_names():
        doc = document(name)
        for path, item in doc["paths"].items():
            for method, op in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    found[op["operationId"]] = Operation(
                        name, op["operationId"], method.upper(), base_path(doc) + path
                    )
    return found


def document_for_path(path: str) -> str:
    """The document whose server serves ``path`` (the longest base path that prefixes it)."""
    best = ""
    chosen = ""
    for name in yaml_names():
        base = base_path(document(name))
        if path.startswith(base) and len(base) > len(best):
            best, chosen = base, name
    if not chosen:
        raise LookupError(f"no CAMARA document serves {path}")
    return chosen


def _openapi_to_jsonschema(node: Any) -> Any:
    """OpenAPI 3.0's schema dialect to JSON Schema draft 4: ``nullable`` becomes a null type;
    the annotations JSON Schema does not know are left for the validator to ignore."""
    if isinstance(node, list):
        return [_openapi_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    converted = {k: _openapi_to_jsonschema(v) for k, v in node.items()}
    if converted.pop("nullable", False) is True:
        if "type" in converted:
            converted["type"] = [converted["type"], "null"]
        else:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


@functools.cache
def _registry(name: str) -> Registry:
    contents = _openapi_to_jsonschema(document(name))
    return Registry().with_resource(
        f"urn:camara:{name}", Resource.from_contents(contents, default_specification=DRAFT4)
    )


def schema_errors(name: str, pointer: str, instance: Any) -> list[str]:
    """Where ``instance`` departs from the document's schema at ``pointer``
    (``#/components/schemas/X`` or ``/components/schemas/X``)."""
    ref = f"urn:camara:{name}#/{pointer.lstrip('#').lstrip('/')}"
    validator = Draft4Validator(
        {"$ref": ref}, registry=_registry(name), format_checker=FormatChecker()
    )
    return [
        f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in validator.iter_errors(instance)
    ]


def schema_at(name: str, pointer: str) -> dict[str, Any]:
    node: Any = document(name)
    for part in pointer.lstrip("#").strip("/").split("/"):
        node = node[part]
    return dict(node)
