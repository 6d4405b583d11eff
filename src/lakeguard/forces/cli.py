"""`lakeguard units …`: seed the model deployment, list units."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from lakeguard.config import Settings
from lakeguard.forces.engine import Capability, UnitKind, UnitStatus

units_app = typer.Typer(help="Units: seed the model deployment, list them.")

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


def _sessions(settings: Settings) -> sessionmaker[Session]:
    from lakeguard.store.migrate import is_up_to_date
    from lakeguard.store.session import make_engine, make_sessionmaker

    engine = make_engine(settings.effective_database_url)
    if not is_up_to_date(engine):
        raise _fail("the database schema is not up to date; run `lakeguard db upgrade`")
    return make_sessionmaker(engine)


@units_app.command("seed")
def units_seed(
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same placement")] = 1,
) -> None:
    """Place the model deployment (300 police units, 1,700 guards) on the stored venue.

    Replaces the units an earlier seed made, with their history; units added by hand stay.
    """
    seed_deployment(seed, now=datetime.now(UTC))


def seed_deployment(seed: int, *, now: datetime) -> None:
    """Seed the model deployment with every unit standing at its post as of ``now`` (a demo
    on a venue clock of its own seeds at that clock's time, so later reports supersede)."""
    import numpy as np

    from lakeguard.forces.deployment import MODEL_COMPANIES, westlake_deployment
    from lakeguard.forces.roster import UnitClash, replace_seeded_units
    from lakeguard.store.session import transaction
    from lakeguard.venue.service import VenueNotFound, get_scenario

    sessions = _sessions(Settings())
    with sessions() as session:
        try:
            scenario = get_scenario(session)
        except VenueNotFound as exc:
            raise _fail(str(exc)) from exc
    specs = westlake_deployment(scenario, np.random.default_rng(seed))
    try:
        with transaction(sessions) as session:
            replace_seeded_units(
                session, venue=scenario, units=specs, companies=MODEL_COMPANIES,
                actor="lakeguard units seed", now=now,
            )  # fmt: skip
    except UnitClash as exc:
        raise _fail(str(exc)) from exc
    kinds = Counter(s.kind.value for s in specs)
    summary = ", ".join(f"{n:,} {kind}" for kind, n in kinds.most_common())
    console.print(f"[green]✓[/green] {len(specs):,} units on [bold]{scenario.id}[/bold]: {summary}")


@units_app.command("list")
def units_list(
    status: Annotated[UnitStatus | None, typer.Option(help="Only units in this status")] = None,
    kind: Annotated[UnitKind | None, typer.Option(help="Only units of this kind")] = None,
    station: Annotated[str | None, typer.Option(help="Only units of this station")] = None,
    capability: Annotated[Capability | None, typer.Option(help="Only units that can")] = None,
    limit: Annotated[int, typer.Option(help="Show at most this many", min=1)] = 50,
) -> None:
    """Units of the stored venue, with status and how fresh their position is."""
    from lakeguard.forces.engine import position_age_s
    from lakeguard.forces.service import list_units
    from lakeguard.venue.service import VenueNotFound, get_venue

    settings = Settings()
    now = datetime.now(UTC)
    with _sessions(settings)() as session:
        try:
            venue = get_venue(session)
        except VenueNotFound as exc:
            raise _fail(str(exc)) from exc
        found = list_units(
            session, venue_id=venue.id, status=status, kind=kind, station=station,
            capability=capability,
        )  # fmt: skip
    table = Table(title=f"Units of {venue.id}: {len(found):,} (showing {min(limit, len(found))})")
    for column in ("callsign", "名称", "kind", "mode", "station / company", "post", "status",
                   "position"):  # fmt: skip
        table.add_column(column)
    for unit in found[:limit]:
        if unit.reported_at is None:
            where = "[yellow]none[/yellow]"
        else:
            age = position_age_s(unit.reported_at, now)
            stale = age > settings.position_max_age_s
            where = f"[{'red' if stale else 'green'}]{age:,.0f} s ago[/]"
        status_text = unit.status + (f" ({unit.status_label})" if unit.status_label else "")
        table.add_row(
            unit.callsign, unit.name.get("zh", ""), unit.kind, unit.mode,
            unit.station_id or unit.company_id or "", unit.home_post_id or "—", status_text, where,
        )  # fmt: skip
    console.print(table)
