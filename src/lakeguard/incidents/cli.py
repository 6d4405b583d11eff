"""`lakeguard report ...`: the command room's figures from the command line."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from lakeguard.incidents import metrics
from lakeguard.incidents.service import incident_times

report_app = typer.Typer(help="Reports: response times.")
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
