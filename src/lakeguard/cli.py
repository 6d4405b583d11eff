"""The `lakeguard` command."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from lakeguard.auth.cli import audit_app, ensure_first_admin, user_app
from lakeguard.community.cli import community_app
from lakeguard.config import Settings
from lakeguard.forces.cli import units_app
from lakeguard.ingest.cli import ingest_app
from lakeguard.notify.cli import notify_app
from lakeguard.reports.cli import report_app
from lakeguard.security.cli import security_app
from lakeguard.twin.cli import twin_app
from lakeguard.venue.schema import Mode

app = typer.Typer(help="LakeGuard: command platform for public safety in scenic areas.")
db_app = typer.Typer(help="Database schema.")
venue_app = typer.Typer(help="Scenarios: check, load, show and measure a venue.")
app.add_typer(db_app, name="db")
app.add_typer(venue_app, name="venue")
app.add_typer(units_app, name="units")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(report_app, name="report")
app.add_typer(ingest_app, name="ingest")
app.add_typer(notify_app, name="notify")
app.add_typer(community_app, name="community")
app.add_typer(security_app, name="security")
app.add_typer(twin_app, name="twin")

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

PathArg = Annotated[
    Path | None,
    typer.Argument(
        help="Scenario folder (default: LAKEGUARD_SCENARIO_PATH, the bundled West Lake)"
    ),
]


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        err.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


# -- db -------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("heads", help="Target revision")) -> None:
    """Create or migrate the database schema."""
    from lakeguard.store.migrate import current_revisions, upgrade
    from lakeguard.store.session import make_engine

    settings = _settings()
    engine = make_engine(settings.effective_database_url)
    upgrade(engine, revision)
    at = ", ".join(sorted(current_revisions(engine))) or "none"
    console.print(f"database at revision [bold]{at}[/bold]")


# -- venue ----------------------------------------------------------------------------------


def _load_folder(path: Path | None) -> Any:
    from lakeguard.venue.loader import load_scenario
    from lakeguard.venue.problems import ScenarioError

    folder = path or _settings().scenario_path
    try:
        return load_scenario(folder)
    except ScenarioError as exc:
        for problem in exc.problems:
            err.print(f"[red]✗[/red] {problem}", highlight=False)
        noun = "problem" if len(exc.problems) == 1 else "problems"
        raise _fail(f"{len(exc.problems)} {noun} in {folder}; nothing was loaded") from exc


def _stored_scenario(venue_id: str | None) -> Any:
    from lakeguard.store.migrate import is_up_to_date
    from lakeguard.store.session import make_engine, make_sessionmaker
    from lakeguard.venue.service import VenueNotFound, get_scenario

    engine = make_engine(_settings().effective_database_url)
    if not is_up_to_date(engine):
        raise _fail("the database schema is not up to date; run `lakeguard db upgrade`")
    with make_sessionmaker(engine)() as session:
        try:
            return get_scenario(session, venue_id=venue_id)
        except VenueNotFound as exc:
            raise _fail(str(exc)) from exc


@venue_app.command("check")
def venue_check(path: PathArg = None) -> None:
    """Validate a scenario folder and print every problem found."""
    from lakeguard.venue.checks import build_network
    from lakeguard.venue.summary import venue_summary

    scenario = _load_folder(path)
    summary = venue_summary(scenario, build_network(scenario.network, scenario.config))
    console.print(
        f"[green]✓[/green] {scenario.id}: {summary['areas']} areas, {summary['points']} points, "
        f"{summary['segments']} segments, {summary['sensors']} sensors, "
        f"{summary['network_nodes']} network nodes: no problems"
    )


@venue_app.command("load")
def venue_load(path: PathArg = None) -> None:
    """Validate a scenario and store it, replacing an earlier version (all or nothing)."""
    from lakeguard.store.migrate import is_up_to_date
    from lakeguard.store.session import make_engine, make_sessionmaker, transaction
    from lakeguard.venue.service import store_scenario

    scenario = _load_folder(path)
    engine = make_engine(_settings().effective_database_url)
    if not is_up_to_date(engine):
        raise _fail("the database schema is not up to date; run `lakeguard db upgrade`")
    with transaction(make_sessionmaker(engine)) as session:
        store_scenario(session, scenario=scenario, now=datetime.now(UTC))
    console.print(
        f"[green]✓[/green] loaded venue [bold]{scenario.id}[/bold] from {scenario.source}"
    )


@venue_app.command("show")
def venue_show(
    path: Annotated[
        Path | None, typer.Option("--path", help="Read a scenario folder, not the database")
    ] = None,
    venue_id: Annotated[str | None, typer.Option("--venue", help="Stored venue id")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Summarise the stored venue (or a scenario folder with --path)."""
    from lakeguard.venue.checks import build_network
    from lakeguard.venue.summary import venue_summary

    scenario = _load_folder(path) if path else _stored_scenario(venue_id)
    summary = venue_summary(scenario, build_network(scenario.network, scenario.config))
    if as_json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"{summary['name']['en']} · {summary['name']['zh']}", show_header=False)
    for key, value in summary.items():
        if key != "name":
            table.add_row(key, ", ".join(value) if isinstance(value, list) else str(value))
    console.print(table)


@venue_app.command("coverage")
def venue_coverage(
    seconds: Annotated[float, typer.Option(help="Time limit in seconds", min=1)] = 60,
    mode: Annotated[Mode, typer.Option(help="Travel mode of the posts")] = Mode.WALK,
    path: Annotated[
        Path | None, typer.Option("--path", help="Read a scenario folder, not the database")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Share of each hotspot that the patrol posts reach within a time (one-minute circles)."""
    from lakeguard.venue.checks import build_network
    from lakeguard.venue.coverage import hotspot_coverage

    if mode == Mode.DRONE:
        raise _fail("coverage follows the network; drones are not a network mode")
    scenario = _load_folder(path) if path else _stored_scenario(None)
    network = build_network(scenario.network, scenario.config)
    found = hotspot_coverage(scenario, network, seconds, mode=mode)
    if as_json:
        rows = [{"area": c.area_id, "share": round(c.share, 4)} for c in found]
        sys.stdout.write(
            json.dumps({"seconds": seconds, "mode": mode.value, "hotspots": rows}) + "\n"
        )
        return
    table = Table(title=f"Hotspot area reached within {seconds:g} s ({mode.value})")
    for column in ("hotspot", "名称", "capacity", "share reached"):
        table.add_column(column, justify="right" if column != "hotspot" else "left")
    for c in sorted(found, key=lambda c: c.share):
        colour = "green" if c.share >= 0.9 else "yellow" if c.share >= 0.5 else "red"
        table.add_row(
            c.name_en, c.name_zh, f"{c.capacity or 0:,}", f"[{colour}]{c.share:.0%}[/{colour}]"
        )
    console.print(table)


# -- serving --------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to bind to (default: LAKEGUARD_HOST, 127.0.0.1)")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(min=1, max=65535, help="Port to bind to (default: LAKEGUARD_PORT, 8000)"),
    ] = None,
) -> None:
    """Start the API server, the dashboard and the API docs.

    On the embedded SQLite database the schema is created or migrated first; a PostgreSQL
    schema is left to `lakeguard db upgrade`, which its operators run on purpose.
    """
    import uvicorn
    from sqlalchemy.engine import make_url

    from lakeguard.api.app import create_app
    from lakeguard.store.migrate import is_up_to_date, upgrade
    from lakeguard.store.session import make_engine

    settings = _settings()
    url = settings.effective_database_url
    engine = make_engine(url)
    try:
        if make_url(url).get_backend_name() == "sqlite":
            upgrade(engine)
        elif not is_up_to_date(engine):
            raise _fail("the database schema is not up to date; run `lakeguard db upgrade`")
    finally:
        engine.dispose()
    bind_host = settings.host if host is None else host
    bind_port = settings.port if port is None else port
    console.print(f"LakeGuard on http://{bind_host}:{bind_port}/ (API docs at /docs)")
    uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_level="info")


@app.command()
def demo(
    speed: Annotated[
        float,
        typer.Option(min=1, max=3600, help="Twin seconds per wall second (60: a day in 24 min)"),
    ] = 60,
    start: Annotated[str, typer.Option(help="Local time of day the live day starts at")] = "10:00",
    visitors: Annotated[int, typer.Option(min=1, help="Visitors over the day")] = 800_000,
    seed: Annotated[int, typer.Option(help="Random seed of the twin and the deployment")] = 1,
    resume: Annotated[
        bool, typer.Option(help="Keep the database and go on with the day where it stopped")
    ] = False,
    twin: Annotated[bool, typer.Option(help="Feed the server a live twin day")] = True,
    auto_dispatch: Annotated[
        bool, typer.Option(help="The twin accepts recommendations; off: dispatch in the browser")
    ] = True,
) -> None:
    """Serve the platform on the embedded database, fed live by the digital twin.

    A fresh demo day starts on a fresh database, whose ``admin`` password is printed; Ctrl-C
    stops the twin and the server.
    """
    from lakeguard.demo import DemoError, run_demo

    settings = _settings()
    try:
        run_demo(
            settings,
            speed=speed,
            start=start,
            visitors=visitors,
            seed=seed,
            resume=resume,
            twin=twin,
            auto_dispatch=auto_dispatch,
            prepare=lambda fresh, begin: _prepare_demo_database(fresh, seed, begin),
        )
    except DemoError as exc:
        raise _fail(str(exc)) from exc


def _prepare_demo_database(fresh: bool, seed: int, begin: datetime) -> None:
    from lakeguard.forces.cli import seed_deployment

    db_upgrade("heads")
    if fresh:
        venue_load(None)
        seed_deployment(seed, now=begin)
    ensure_first_admin()


if __name__ == "__main__":
    app()
