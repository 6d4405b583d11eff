"""`lakeguard user …`, `lakeguard audit verify` and the demo's first admin, as a user runs them."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from lakeguard import cli
from lakeguard.auth import service as users
from lakeguard.auth import tokens
from lakeguard.auth.roles import Principal, Role
from lakeguard.store.session import make_engine, make_sessionmaker, transaction
from tests.auth.helpers import NOW, PASSWORD

runner = CliRunner()


@pytest.fixture(autouse=True)
def _own_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    monkeypatch.setenv("LAKEGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LAKEGUARD_DATABASE_URL", database_url)


@pytest.fixture
def upgraded() -> None:
    assert runner.invoke(cli.app, ["db", "upgrade"]).exit_code == 0


def _invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(cli.app, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def _principal_of(database_url: str, token: str) -> Principal | None:
    engine = make_engine(database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            return tokens.authenticate_token(session, token, now=NOW)
    finally:
        engine.dispose()


def test_commands_need_the_schema_first() -> None:
    code, _, stderr = _invoke("user", "list")
    assert code == 1 and "run `lakeguard db upgrade`" in stderr


@pytest.mark.usefixtures("upgraded")
def test_add_list_and_disable(database_url: str) -> None:
    code, out, _ = _invoke(
        "user", "add", "lin", "--role", "dispatcher", "--role", "commander",
        "--unit", "hq", "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0 and "user lin created (commander, dispatcher)" in out
    code, out, _ = _invoke(
        "user", "add", "he", "--role", "guard", stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert code == 0, out  # the hidden prompt, asked twice
    listed = _invoke("user", "list")[1]
    assert re.search(r"lin\s.*commander, dispatcher\s.*hq\s.*active", listed)
    assert _invoke("user", "disable", "lin")[0] == 0
    assert re.search(r"lin\s.*disabled", _invoke("user", "list")[1])
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        lin = users.get_by_username(session, username="lin")
        assert lin is not None and lin.disabled and users.check_password(lin, PASSWORD)
    engine.dispose()


@pytest.mark.usefixtures("upgraded")
def test_add_refuses_bad_input() -> None:
    short = _invoke("user", "add", "xu", "--role", "guard", "--password-stdin", stdin="short\n")
    assert short[0] == 1 and "at least 12 characters" in short[2]
    device = _invoke("user", "add", "xu", "--role", "device", "--password-stdin", stdin=PASSWORD)
    assert device[0] == 1 and "device tokens" in device[2]
    assert (
        _invoke("user", "add", "xu", "--role", "mayor", "--password-stdin", stdin=PASSWORD)[0] == 2
    )
    assert _invoke("user", "disable", "nobody")[0] == 1


@pytest.mark.usefixtures("upgraded")
def test_token_is_printed_once_and_works(database_url: str) -> None:
    _invoke("user", "add", "gao", "--role", "field_officer", "--password-stdin", stdin=PASSWORD)
    code, out, err = _invoke("user", "token", "gao", "--scope", "api")
    assert code == 0 and "shown only now" in err
    token = out.strip()
    assert token.startswith("lg_") and "\n" not in token
    principal = _principal_of(database_url, token)
    assert principal is not None and principal.roles == {Role.FIELD_OFFICER}

    code, out, _ = _invoke("user", "token", "gao", "--scope", "positions", "--unit", "boat-3")
    device = _principal_of(database_url, out.strip())
    assert device is not None and device.subject == "device:boat-3"

    assert _invoke("user", "token", "gao", "--scope", "root")[0] == 1
    assert _invoke("user", "token", "nobody", "--scope", "api")[0] == 1
    _invoke("user", "disable", "gao")
    assert _principal_of(database_url, token) is None


@pytest.mark.usefixtures("upgraded")
def test_audit_verify_reports_intact_and_broken_chains(database_url: str) -> None:
    for name in ("a1", "a2", "a3"):
        _invoke("user", "add", name, "--role", "auditor", "--password-stdin", stdin=PASSWORD)
    code, out, _ = _invoke("audit", "verify")
    assert code == 0 and "chain intact: 3 rows" in out
    engine = make_engine(database_url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
        second = connection.scalar(text("SELECT id FROM audit_log ORDER BY id LIMIT 1 OFFSET 1"))
        connection.execute(
            text("UPDATE audit_log SET actor = 'someone' WHERE id = :id"), {"id": second}
        )
    engine.dispose()
    code, _, err = _invoke("audit", "verify")
    assert code == 1
    assert f"chain broken at row {second}: its content does not match its hash" in err


def test_demo_creates_a_first_admin_once(
    monkeypatch: pytest.MonkeyPatch, tiny_folder: Path, database_url: str
) -> None:
    monkeypatch.setenv("LAKEGUARD_SCENARIO_PATH", str(tiny_folder))

    def prepare_only(
        settings: object, *, prepare: Callable[[bool, datetime], None], **_: object
    ) -> None:
        prepare(True, datetime.now(UTC))  # the demo's set-up, without serving or a twin

    monkeypatch.setattr("lakeguard.demo.run_demo", prepare_only)
    first = runner.invoke(cli.app, ["demo"])
    assert first.exit_code == 0, first.output
    match = re.search(r"password: (\S+)", first.stdout)
    assert match and "First administrator created" in first.stdout
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        admin = users.get_by_username(session, username="admin")
        assert admin is not None and admin.roles == {Role.ADMIN}
        assert users.check_password(admin, match.group(1))
    engine.dispose()
    second = runner.invoke(cli.app, ["demo"])
    assert second.exit_code == 0 and "First administrator" not in second.stdout
