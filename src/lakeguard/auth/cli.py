"""`lakeguard user …` and `lakeguard audit verify`."""

from __future__ import annotations

import getpass
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from sqlalchemy.orm import Session

from lakeguard.auth.policy import KNOWN_SCOPES
from lakeguard.auth.roles import USER_ROLES, Role
from lakeguard.config import Settings

user_app = typer.Typer(help="Users and their tokens.")
audit_app = typer.Typer(help="The audit log.")

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

# A Role restricted to what a user may hold, for Typer's choices.
UserRole = typer.Option(
    "--role",
    help=f"Role to give (repeat for several): {', '.join(USER_ROLES)}",
    case_sensitive=False,
)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def cli_actor() -> str:
    """Who the audit log names for commands run from a shell."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return "cli"


@contextmanager
def _database() -> Iterator[Session]:
    """A transaction on the configured database, refused when the schema is behind."""
    from lakeguard.store.migrate import is_up_to_date
    from lakeguard.store.session import make_engine, make_sessionmaker, transaction

    try:
        settings = Settings()
    except ValueError as exc:
        err.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc
    engine = make_engine(settings.effective_database_url)
    try:
        if not is_up_to_date(engine):
            raise _fail("the database schema is not up to date; run `lakeguard db upgrade`")
        with transaction(make_sessionmaker(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Login name")],
    roles: Annotated[list[Role], UserRole],
    unit: Annotated[str | None, typer.Option("--unit", help="The unit this user is")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create a user; the password is read from stdin or a hidden prompt, never an argument."""
    from lakeguard.auth import service as users

    password = _read_password(password_stdin)
    with _database() as session:
        try:
            user = users.create(
                session,
                username=username,
                roles=roles,
                password=password,
                unit_id=unit,
                actor=cli_actor(),
                now=datetime.now(UTC),
            )
        except (users.UserExists, users.InvalidUser) as exc:
            raise _fail(str(exc)) from exc
        names = ", ".join(sorted(user.roles))
    console.print(f"[green]✓[/green] user [bold]{username}[/bold] created ({names})")


@user_app.command("list")
def user_list() -> None:
    """Every user with roles, unit and state."""
    from lakeguard.auth import service as users

    table = Table("user", "roles", "unit", "state", "created")
    with _database() as session:
        for user in users.list_users(session):
            table.add_row(
                user.username,
                ", ".join(sorted(user.roles)),
                user.unit_id or "",
                "[red]disabled[/red]" if user.disabled else "active",
                f"{user.created_at:%Y-%m-%d %H:%M}Z",
            )
    console.print(table)


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument(help="Login name")]) -> None:
    """Refuse the user's logins and tokens from now on."""
    from lakeguard.auth import service as users

    with _database() as session:
        try:
            users.disable(session, username=username, actor=cli_actor(), now=datetime.now(UTC))
        except users.UserNotFound as exc:
            raise _fail(str(exc)) from exc
    console.print(f"[green]✓[/green] user [bold]{username}[/bold] disabled")


@user_app.command("token")
def user_token(
    username: Annotated[str, typer.Argument(help="The user the token belongs to")],
    scopes: Annotated[
        list[str], typer.Option("--scope", help=f"Repeatable: {', '.join(sorted(KNOWN_SCOPES))}")
    ],
    unit: Annotated[
        str | None, typer.Option("--unit", help="Bind to a unit: a device token")
    ] = None,
    sensor: Annotated[
        str | None, typer.Option("--sensor", help="Bind to a sensor: a device token")
    ] = None,
    label: Annotated[str, typer.Option(help="What the token is for")] = "",
) -> None:
    """Issue a bearer token and print it once; only its hash is stored."""
    from lakeguard.auth import service as users
    from lakeguard.auth import tokens

    with _database() as session:
        user = users.get_by_username(session, username=username)
        if user is None:
            raise _fail(f"no user {username!r}")
        try:
            row, secret = tokens.issue(
                session,
                user=user,
                scopes=scopes,
                unit_id=unit,
                sensor_id=sensor,
                label=label,
                actor=cli_actor(),
                now=datetime.now(UTC),
            )
        except tokens.InvalidToken as exc:
            raise _fail(str(exc)) from exc
        token_id = row.id
    err.print(f"token {token_id} for {username}; it is shown only now:")
    # The secret alone on stdout, so that it can be piped into a device's configuration.
    sys.stdout.write(secret + "\n")


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; exit 1 at the first row that does not follow from the one before."""
    from lakeguard.auth.audit import verify_chain

    with _database() as session:
        report = verify_chain(session)
    if not report.intact:
        raise _fail(
            f"chain broken at row {report.broken_row_id}: {report.reason} "
            f"({report.rows} rows before it are intact)"
        )
    console.print(f"[green]✓[/green] chain intact: {report.rows} rows (head {report.head_hash})")


def ensure_first_admin() -> None:
    """With no user at all, create ``admin`` with a random password and print it, once."""
    from lakeguard.auth import service as users

    with _database() as session:
        if users.count(session) > 0:
            return
        password = secrets.token_urlsafe(18)
        users.create(
            session,
            username="admin",
            roles=[Role.ADMIN],
            password=password,
            actor=cli_actor(),
            now=datetime.now(UTC),
        )
    console.print(
        Panel(
            f"username: [bold]admin[/bold]\npassword: [bold]{password}[/bold]\n\n"
            "This password is shown only now. Keep it, or create your own admin with "
            "`lakeguard user add NAME --role admin` and disable this one.",
            title="First administrator created",
            border_style="yellow",
        )
    )
