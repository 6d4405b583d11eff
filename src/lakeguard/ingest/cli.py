"""`lakeguard ingest ...`: read the dead letters of refused observations."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

ingest_app = typer.Typer(help="Sensor observations: dead letters.")
console = Console(soft_wrap=True)


@ingest_app.command("rejects")
def ingest_rejects(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first")] = 50,
    sensor: Annotated[str | None, typer.Option(help="Only this sensor's")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """Refused observations, newest first: when, from whom, which item, and why."""
    from lakeguard.config import Settings
    from lakeguard.ingest.service import list_rejects, reject_json
    from lakeguard.store.session import make_engine, make_sessionmaker

    engine = make_engine(Settings().effective_database_url)
    with make_sessionmaker(engine)() as session:
        rows = list_rejects(session, limit=limit, sensor_id=sensor)
    if as_json:
        for r in rows:
            record = reject_json(r)
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    if not rows:
        console.print("no refused observations")
        return
    table = Table(title=f"Refused observations (newest {len(rows)})")
    for column in ("received", "source", "sender", "index", "sensor", "event", "reason"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.received_at.strftime("%Y-%m-%d %H:%M:%S"),
            r.source,
            r.sender,
            str(r.batch_index),
            r.sensor_id or "–",
            r.event_id or "–",
            r.reason,
        )
    console.print(table)
