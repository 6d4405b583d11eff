"""`lakeguard notify targets | deliveries | test TARGET`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from lakeguard.config import Settings
from lakeguard.notify.channels import TIMEOUT, channel_for
from lakeguard.notify.engine import Message, Notice, Outcome
from lakeguard.notify.targets import TargetConfig, targets_by_name

notify_app = typer.Typer(help="Notifications: targets, deliveries and dead letters, a test send.")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _targets(settings: Settings) -> dict[str, TargetConfig]:
    try:
        return targets_by_name(settings.notify_targets, settings.notify_targets_file)
    except (OSError, ValueError) as exc:
        err.print(f"[red]error:[/red] notify targets: {exc}")
        raise typer.Exit(2) from exc


@notify_app.command("targets")
def notify_targets() -> None:
    """Configured targets; secrets shown as their last four characters."""
    targets = _targets(Settings())
    table = Table(title=f"{len(targets)} notify targets")
    for column in ("name", "type", "per minute", "group wait s", "where", "credentials"):
        table.add_column(column)
    for target in targets.values():
        shown = target.listing()
        where = shown.get("url") or f"{shown.get('host')}:{shown.get('port')}"
        secrets = ", ".join(
            f"{k}={v}"
            for k, v in shown.items()
            if k in ("key", "access_token", "token", "secret", "password") and v
        )
        table.add_row(
            target.name,
            target.type,
            str(target.per_minute),
            f"{target.group_wait_s:g}",
            str(where),
            secrets,
        )
    console.print(table)


@notify_app.command("deliveries")
def notify_deliveries(
    status: Annotated[
        str | None, typer.Option(help="pending, sending, sent, retrying or dead (dead letters)")
    ] = None,
    target: Annotated[str | None, typer.Option(help="only this target")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """Deliveries, newest first."""
    from lakeguard.notify.service import list_deliveries
    from lakeguard.store.session import make_engine, make_sessionmaker

    engine = make_engine(Settings().effective_database_url)
    with make_sessionmaker(engine)() as session:
        rows = list_deliveries(session, status=status, target=target, limit=limit)
    table = Table(title=f"{len(rows)} deliveries")
    for column in ("id", "target", "status", "attempts", "created", "title", "last error"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.id),
            row.target,
            row.status,
            str(row.attempts),
            row.created_at.isoformat(timespec="seconds"),
            row.title,
            row.last_error,
        )
    console.print(table)


@notify_app.command("test")
def notify_test(name: Annotated[str, typer.Argument(help="a configured target's name")]) -> None:
    """Send one test message to a target now, outside the worker."""
    targets = _targets(Settings())
    if name not in targets:
        err.print(f"[red]error:[/red] no notify target {name!r}; known: {', '.join(targets)}")
        raise typer.Exit(2)
    now = datetime.now(UTC)
    notice = Notice(
        f"test-{uuid.uuid4()}:{name}", "LakeGuard test", f"Sent {now:%Y-%m-%d %H:%M} UTC"
    )
    with httpx.Client(timeout=TIMEOUT) as client:
        result = channel_for(targets[name]).send(Message((notice,)), client=client, now=now)
    colour = "green" if result.outcome == Outcome.OK else "red"
    console.print(f"[{colour}]{result.outcome.value}[/{colour}] {result.detail}".rstrip())
    if result.outcome != Outcome.OK:
        raise typer.Exit(1)
