"""`lakeguard security ...`: the monthly training report of security companies' guards."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

security_app = typer.Typer(help="Security forces: joint stations, tasks, training.")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@security_app.command("training-report")
def training_report_command(
    month: Annotated[str, typer.Option(help="YYYY-MM")],
    overdue_days: Annotated[int | None, typer.Option(min=1, max=366)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Per company: guards trained in the month, and guards overdue for training."""
    from lakeguard.config import Settings
    from lakeguard.security.engine import training_report
    from lakeguard.security.service import training_inputs
    from lakeguard.store.session import make_engine, make_sessionmaker

    settings = Settings()
    days = overdue_days or settings.training_overdue_days
    with make_sessionmaker(make_engine(settings.effective_database_url))() as session:
        guards, attended = training_inputs(session)
    try:
        found = training_report(guards, attended, month, days)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    if as_json:
        rows = [
            {"company": c.company_id, "guards": c.guards, "trained": len(c.trained),
             "overdue": len(c.overdue)}
            for c in found
        ]  # fmt: skip
        sys.stdout.write(json.dumps({"month": month, "overdue_days": days, "companies": rows}))
        sys.stdout.write("\n")
        return
    table = Table(title=f"Training, {month} (overdue: none in {days} days)")
    for column in ("company", "guards", "trained", "overdue"):
        table.add_column(column, justify="left" if column == "company" else "right")
    for c in found:
        table.add_row(c.company_id, str(c.guards), str(len(c.trained)), str(len(c.overdue)))
    console.print(table if found else "no security companies")
