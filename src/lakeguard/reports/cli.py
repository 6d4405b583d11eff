"""`lakeguard report ...`: the command room's figures from the command line."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from lakeguard.incidents import metrics
from lakeguard.incidents.service import incident_times

report_app = typer.Typer(help="Reports: response times and patrol compliance.")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        err.print(f"[red]error:[/red] --since: expected an ISO date or time, got {text!r}")
        raise typer.Exit(2) from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@report_app.command("response")
def report_response(
    since: Annotated[str | None, typer.Option(help="ISO date or time (UTC if no zone)")] = None,
    group_by: Annotated[
        str | None, typer.Option("--group-by", help="type, area, station or unit")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Response-time intervals (NFPA 1710): processing, turnout, travel, response."""
    from lakeguard.config import Settings
    from lakeguard.store.session import make_engine, make_sessionmaker

    if group_by is not None and group_by not in metrics.GROUPINGS:
        err.print(f"[red]error:[/red] --group-by must be one of {', '.join(metrics.GROUPINGS)}")
        raise typer.Exit(2)
    engine = make_engine(Settings().effective_database_url)
    with make_sessionmaker(engine)() as session:
        found = metrics.report(
            metrics.samples(incident_times(session, since=_since(since))), group_by
        )
    if as_json:
        sys.stdout.write(
            json.dumps({"since": since, "group_by": group_by, "intervals": found}) + "\n"
        )
        return
    table = Table(title="Response intervals, seconds (p50 / p90, count)")
    for column in ("group", *metrics.INTERVALS):
        table.add_column(column, justify="left" if column == "group" else "right")
    for key, intervals in found.items():
        cells = []
        for name in metrics.INTERVALS:
            figures = intervals.get(name)  # type: ignore[attr-defined]
            cells.append(
                f"{figures['p50']} / {figures['p90']} ({figures['count']})" if figures else "–"
            )
        table.add_row(key, *cells)
    console.print(table if found else "no incidents with measurable intervals yet")


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        err.print(f"[red]error:[/red] --date: expected YYYY-MM-DD, got {text!r}")
        raise typer.Exit(2) from exc


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


@report_app.command("patrol")
def report_patrol(
    day: Annotated[
        str | None, typer.Option("--date", help="Local day YYYY-MM-DD (default: today)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Patrol compliance from positions: segment walked, time away from post, hotspot stops."""
    from zoneinfo import ZoneInfo

    from lakeguard.config import Settings
    from lakeguard.patrol.service import day_compliance
    from lakeguard.store.session import make_engine, make_sessionmaker
    from lakeguard.venue.checks import build_network
    from lakeguard.venue.loader import load_scenario

    settings = Settings()
    scenario = load_scenario(settings.scenario_path)
    network = build_network(scenario.network, scenario.config, scenario.areas)
    now = datetime.now(UTC)
    wanted = _day(day) or now.astimezone(ZoneInfo(scenario.config.timezone)).date()
    engine = make_engine(settings.effective_database_url)
    with make_sessionmaker(engine)() as session:
        found = day_compliance(session, scenario=scenario, network=network, day=wanted, now=now)
    rows = [
        {
            "unit": u.unit_id,
            "callsign": found.callsigns[u.unit_id],
            "kind": found.kinds[u.unit_id],
            "post": u.post_id,
            "post_kind": u.post_kind,
            "fixes": u.fixes,
            "on_duty_s": u.on_duty_s,
            "tracked_s": u.tracked_s,
            "walked_share": u.walked_share,
            "away_share": u.away_share,
            "stops": len(u.stops),
            "koper_stops": u.koper_stops,
        }
        for u in found.units
    ]
    if as_json:
        sys.stdout.write(json.dumps({"date": wanted.isoformat(), "units": rows}) + "\n")
        return
    if not rows:
        console.print(f"no units with a post on {wanted.isoformat()}")
        return
    table = Table(title=f"Patrol compliance, {wanted.isoformat()}")
    for column in ("unit", "post", "fixes", "tracked", "walked", "away", "stops (10–15 min)"):
        table.add_column(column, justify="left" if column in ("unit", "post") else "right")
    for u in found.units:
        table.add_row(
            found.callsigns[u.unit_id],
            u.post_id,
            str(u.fixes),
            _share(u.tracked_s / u.on_duty_s if u.on_duty_s else None),
            _share(u.walked_share),
            _share(u.away_share),
            f"{len(u.stops)} ({u.koper_stops})",
        )
    console.print(table)
