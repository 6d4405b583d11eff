"""`lakeguard community ...`: coverage, overdue reminders, and the West Lake model groups."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from lakeguard.config import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

community_app = typer.Typer(help="Community policing: liaison groups, coverage, reminders.")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _sessions() -> tuple[Settings, sessionmaker[Session]]:
    from lakeguard.store.session import make_engine, make_sessionmaker

    settings = Settings()
    return settings, make_sessionmaker(make_engine(settings.effective_database_url))


_LEVEL = {"venues": "venue", "stations": "station", "communities": "community"}


@community_app.command("coverage")
def coverage(
    target: Annotated[float | None, typer.Option(min=0.01, max=1.0)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Group members over reachable population per community, station and venue."""
    from lakeguard.community.engine import coverage_by
    from lakeguard.community.service import community_figures

    settings, sessions = _sessions()
    goal = target or settings.community_coverage_target
    with sessions() as session:
        found = coverage_by(community_figures(session), goal)
    rows = [(level, c) for level in ("venues", "stations", "communities") for c in found[level]]
    if as_json:
        out = [
            {"level": level, "key": c.key, "groups": c.groups, "members": c.members,
             "reachable": c.reachable, "coverage": c.ratio, "meets_target": c.meets_target}
            for level, c in rows
        ]  # fmt: skip
        sys.stdout.write(json.dumps({"target": goal, "coverage": out}, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"Liaison-group coverage (target {goal:.0%})")
    for column in ("level", "name", "groups", "members", "reachable", "coverage", "short"):
        table.add_column(column, justify="left" if column in ("level", "name") else "right")
    for level, c in rows:
        ratio = f"{c.ratio:.1%}" if c.ratio is not None else "–"
        mark = "" if c.meets_target else " [red]✗[/red]"
        table.add_row(_LEVEL[level], c.key, str(c.groups), str(c.members), str(c.reachable),
                      ratio + mark, str(c.shortfall))  # fmt: skip
    console.print(table if rows else "no communities yet: `lakeguard community seed` for a model")


@community_app.command("remind")
def remind() -> None:
    """Emit a reminder for every overdue open case (once per case and overdue period)."""
    from lakeguard.community.cases import run_reminders
    from lakeguard.community.engine import targets
    from lakeguard.store.session import transaction

    settings, sessions = _sessions()
    with transaction(sessions) as session:
        sent = run_reminders(
            session, now=datetime.now(UTC), targets_h=targets(settings.community_case_targets_h)
        )
    for r in sent:
        console.print(f"case {r.case_id} ({r.category}, {r.status}): overdue, period {r.period}")
    console.print(f"{len(sent)} reminder(s) sent")


@community_app.command("seed")
def seed() -> None:
    """Store MODEL West Lake communities: 85 groups, 18,000 members, about 88 % coverage."""
    from lakeguard.community.seed import westlake_communities
    from lakeguard.community.service import (
        CommunityExists,
        InvalidCommunity,
        store_model_communities,
    )
    from lakeguard.store.session import transaction
    from lakeguard.venue.service import VenueNotFound, get_scenario

    _, sessions = _sessions()
    try:
        with transaction(sessions) as session:
            venue = get_scenario(session)
            stations = [s.id for s in venue.stations]
            n = store_model_communities(
                session, venue=venue, specs=westlake_communities(stations), now=datetime.now(UTC)
            )
    except (VenueNotFound, InvalidCommunity, CommunityExists) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"stored {n} model communities (model data, not the real groups)")
