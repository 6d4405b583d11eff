"""The OpenAPI document is the contract: every operation says what it answers, errors included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lakeguard.api.app import create_app
from lakeguard.api.problems import PROBLEM_JSON
from lakeguard.config import Settings


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder: Path = tmp_path_factory.mktemp("openapi")
    app = create_app(Settings(database_url=f"sqlite:///{folder / 'unused.sqlite3'}"))
    return app.openapi()


def _operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", op)
        for path, ops in document["paths"].items()
        for method, op in ops.items()
    ]


def _typed(schema: dict[str, Any]) -> bool:
    """A named model, a list of typed items, or a scalar: anything but a free-form object."""
    if "$ref" in schema:
        return True
    if schema.get("type") == "array":
        return _typed(schema.get("items", {}))
    if "anyOf" in schema:
        return all(_typed(s) or s.get("type") == "null" for s in schema["anyOf"])
    return schema.get("type") in {"string", "integer", "number", "boolean"}


def test_every_operation_declares_a_typed_success_answer(document: dict[str, Any]) -> None:
    untyped = []
    for name, op in _operations(document):
        success = {c: r for c, r in op["responses"].items() if c.startswith("2")}
        assert success, name
        for response in success.values():
            content = response.get("content")
            if not content:  # 204, or a tracker's empty 200: no body to describe
                continue
            (media,) = content.values()
            if not _typed(media.get("schema", {})):
                untyped.append(name)
    assert untyped == []


def test_every_operation_declares_its_problem_answers(document: dict[str, Any]) -> None:
    problem = {"$ref": "#/components/schemas/Problem"}
    for name, op in _operations(document):
        for code in ("4XX", "5XX"):
            assert op["responses"][code]["content"] == {PROBLEM_JSON: {"schema": problem}}, name
        # Validation errors are problems too, not FastAPI's HTTPValidationError.
        assert "422" not in op["responses"], name
    assert set(document["components"]["schemas"]["Problem"]["required"]) == {"title", "status"}


def test_the_document_covers_every_domain(document: dict[str, Any]) -> None:
    tags = {tag for _, op in _operations(document) for tag in op.get("tags", [])}
    assert {"incidents", "units", "crowd", "community", "security", "notify"} <= tags
