"""Domain errors become problem documents in one handler; anything else is a 500."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from lakeguard.api.problems import PROBLEM_JSON, install_problem_handlers
from lakeguard.errors import Conflict, DomainError, Forbidden, Invalid, NotFound


class StepTaken(Conflict):
    title = "Step taken"


def _client() -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/missing")
    def missing() -> None:
        raise NotFound("no alert 7")

    @app.get("/taken")
    def taken() -> None:
        raise StepTaken("step 3 is already done", field="status")

    @app.get("/refused")
    def refused() -> None:
        raise Forbidden("your own unit only")

    @app.get("/bug")
    def bug() -> None:
        raise ValueError("a bug, not the caller's fault")

    @app.get("/lookup-bug")
    def lookup_bug() -> None:
        {}["nothing"]

    return TestClient(app, raise_server_exceptions=False)


def test_a_domain_error_answers_its_status_title_and_extra_members() -> None:
    client = _client()
    answer = client.get("/taken")
    assert answer.status_code == 409
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.json() == {
        "type": "about:blank",
        "title": "Step taken",
        "status": 409,
        "detail": "step 3 is already done",
        "field": "status",
    }
    missing = client.get("/missing")
    assert (missing.status_code, missing.json()["title"]) == (404, "Not found")
    assert client.get("/refused").status_code == 403


def test_a_plain_value_error_or_lookup_error_is_a_500_not_the_callers_fault() -> None:
    client = _client()
    for path in ("/bug", "/lookup-bug"):
        answer = client.get(path)
        assert answer.status_code == 500, path
        assert answer.headers["content-type"] == PROBLEM_JSON
        assert answer.json()["title"] == "Internal server error"
        assert "bug" not in answer.json().get("detail", "")


def test_each_kind_has_one_status() -> None:
    statuses = {kind: kind.status for kind in (NotFound, Conflict, Invalid, Forbidden)}
    assert statuses == {NotFound: 404, Conflict: 409, Invalid: 422, Forbidden: 403}
    assert issubclass(Invalid, ValueError) and issubclass(NotFound, LookupError)
    assert not issubclass(Conflict, ValueError) and issubclass(Conflict, DomainError)
