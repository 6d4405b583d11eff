"""`lakeguard twin run` (a whole day, as fast as it goes, against an embedded platform) and
`lakeguard twin live` (against a running server, at the server's clock)."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

twin_app = typer.Typer(help="The digital twin: a simulated day through the platform.")
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

TOKEN_ENV = "LAKEGUARD_TWIN_TOKEN"
STATE_FILE = "twin-state.json"

Visitors = Annotated[
    int, typer.Option(min=1, max=2_000_000, help="Visitors over the day (250,000 is ordinary)")
]
Seed = Annotated[int, typer.Option(help="Random seed: the same seed, the same day")]
Scenario = Annotated[
    Path | None, typer.Option("--scenario", help="Scenario folder (default: the bundled one)")
]


def _scenario(path: Path | None) -> Any:
    from lakeguard.config import Settings
    from lakeguard.venue.checks import build_network
    from lakeguard.venue.loader import load_scenario
    from lakeguard.venue.problems import ScenarioError

    folder = path or Settings().scenario_path
    try:
        scenario = load_scenario(folder)
    except ScenarioError as exc:
        for problem in exc.problems:
            err.print(f"[red]✗[/red] {problem}", highlight=False)
        raise typer.Exit(1) from exc
    return scenario, build_network(scenario.network, scenario.config, scenario.areas)


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]twin[/bold] {task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        console=console,
    )


@twin_app.command("run")
def run(
    out: Annotated[Path, typer.Option("--out", help="Folder for the report and its database")],
    visitors: Visitors = 800_000,
    seed: Seed = 1,
    day: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="The day (default 2026-10-02)")
    ] = None,
    start: Annotated[
        str, typer.Option(help="Local time the platform is fed from (engines only before it)")
    ] = "00:00",
    hours: Annotated[
        float, typer.Option(min=0.25, max=24, help="Hours to play from --start (up to midnight)")
    ] = 24,
    dry: Annotated[bool, typer.Option(help="A dry day: hill fires can start")] = False,
    scenario_path: Scenario = None,
) -> None:
    """Simulate a whole day against an embedded platform and write the day's report."""
    from lakeguard.twin.driver import TwinDay, TwinOptions
    from lakeguard.twin.embedded import embedded_platform
    from lakeguard.twin.pace import BatchPace
    from lakeguard.twin.render import write_report
    from lakeguard.twin.report import build_report, estimate_series

    scenario, network = _scenario(scenario_path)
    start_s = _seconds_of_day(start)
    options = TwinOptions(
        visitors=visitors,
        seed=seed,
        day=day.date() if day else TwinOptions.day,
        start_s=start_s,
        end_s=min(86_400.0, start_s + round(hours * 60) * 60),
        dry=dry,
    )
    day_start = datetime.combine(
        options.day, datetime.min.time(), ZoneInfo(scenario.config.timezone)
    )
    started = time.perf_counter()
    with embedded_platform(out, scenario, network, start=day_start, seed=seed) as platform:
        twin = TwinDay(scenario, network, platform.api, options, BatchPace(platform.clock))
        console.print(f"equipping {scenario.id}'s units with trackers …")
        twin.prepare()
        with _progress() as bar:
            task = bar.add_task(f"{options.day} · {visitors:,} visitors", total=options.end_s)
            twin.run(lambda t: bar.update(task, completed=t))
        unit_kinds = {u.unit_id: u.kind for u in twin.unit_specs}
        run_facts = {
            "scenario": scenario.id,
            "day": options.day.isoformat(),
            "visitors": visitors,
            "seed": seed,
            "start": start,
            "end": f"{int(options.end_s // 3600):02d}:{int(options.end_s % 3600 // 60):02d}",
            "units": len(twin.unit_specs),
            "api_calls": platform.api.calls,
        }
        estimates = estimate_series(platform.api, scenario, day_start)
        report = build_report(
            twin.record,
            platform.api,
            scenario,
            network,
            run=run_facts,
            midnight=day_start,
            unit_kinds=unit_kinds,
            estimates=estimates,
        )
    written = write_report(report, twin.record, scenario, out, estimates)
    _summary(report)
    console.print(f"simulated in {time.perf_counter() - started:.0f} s; report: {written[1]}")


def _seconds_of_day(text: str) -> float:
    try:
        parsed = datetime.strptime(text, "%H:%M")
    except ValueError as exc:
        err.print(f"[red]error:[/red] --start {text!r}: give a local time such as 10:00")
        raise typer.Exit(2) from exc
    return float(parsed.hour * 3600 + parsed.minute * 60)


def _summary(report: dict[str, Any]) -> None:
    table = Table(title="calibration")
    for column in ("figure", "public", "twin"):
        table.add_column(column)
    for row in report["calibration"]:
        colour = {True: "green", False: "red", None: "white"}[row["met"]]
        table.add_row(row["figure"], row["public"], f"[{colour}]{row['twin']}[/{colour}]")
    console.print(table)
    checks = report["checks"]
    console.print(
        f"incidents recorded: {report['incidents']['total_recorded']}; dispatches: "
        f"{checks['dispatches']}; anomalies: {checks['anomaly_count']}"
    )


@twin_app.command("live")
def live(
    url: Annotated[str, typer.Option(help="The server's base URL")] = "http://127.0.0.1:8000",
    visitors: Visitors = 800_000,
    seed: Seed = 1,
    auto_dispatch: Annotated[
        bool, typer.Option(help="Accept each recommendation; off: dispatch in the browser")
    ] = True,
    state_dir: Annotated[
        Path | None, typer.Option(help="Where to note how far the day got (for --resume)")
    ] = None,
    scenario_path: Scenario = None,
) -> None:
    """Play the day through a running server at its clock (token in LAKEGUARD_TWIN_TOKEN)."""
    import httpx

    from lakeguard.twin.api import TwinApi, TwinApiError
    from lakeguard.twin.driver import TwinDay, TwinOptions
    from lakeguard.twin.pace import LivePace

    token = os.environ.get(TOKEN_ENV)
    if not token:
        err.print(
            f"[red]error:[/red] set {TOKEN_ENV} to an admin token with the observations scope"
        )
        raise typer.Exit(2)
    scenario, network = _scenario(scenario_path)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with httpx.Client(base_url=url, timeout=60) as client:
        api = TwinApi(client, token)
        try:
            clock = api.clock()
        except (httpx.HTTPError, TwinApiError) as exc:
            err.print(f"[red]error:[/red] no LakeGuard answers at {url}: {exc}")
            raise typer.Exit(1) from exc
        server_now = datetime.fromisoformat(clock["now"])
        local = server_now.astimezone(ZoneInfo(scenario.config.timezone))
        start_s = local.hour * 3600 + local.minute * 60 + local.second
        options = TwinOptions(
            visitors=visitors,
            seed=seed,
            day=local.date(),
            start_s=(start_s // 60) * 60,
            auto_dispatch=auto_dispatch,
        )
        pace = LivePace(server_now, float(clock["speed"]), stop)
        twin = TwinDay(scenario, network, api, options, pace, stop=stop)
        twin.prepare()
        console.print(
            f"twin live: {options.day} from {local:%H:%M} at {clock['speed']:g}x, "
            f"{visitors:,} visitors, automatic dispatch {'on' if auto_dispatch else 'off'}"
        )
        last_note = [0.0]

        def note(t_s: float) -> None:
            if state_dir is not None:
                _save_state(state_dir, options.day, seed, visitors, t_s)
            if t_s > options.start_s and t_s - last_note[0] >= 3600:
                last_note[0] = t_s - t_s % 3600
                record = twin.record
                console.print(
                    f"twin {int(t_s // 3600):02d}:{int(t_s % 3600 // 60):02d} · in the venue "
                    f"{int(record.in_venue[record.steps - 1]):,} · incidents "
                    f"{len(record.incidents)} · dispatches {len(record.dispatches)} · anomalies "
                    f"{len(record.anomalies)}"
                )

        try:
            twin.run(note)
        except httpx.TransportError as exc:
            if not stop.is_set():
                err.print(f"[red]error:[/red] the server at {url} went away: {exc}")
                raise typer.Exit(1) from exc
    console.print("twin stopped" if stop.is_set() else "twin day complete")


@twin_app.command("exposure")
def exposure(visitors: Visitors = 800_000, seed: Seed = 1, scenario_path: Scenario = None) -> None:
    """A day's visitor-hours by exposure class: what incident rates are fitted to."""
    from lakeguard.twin.incidents import day_exposure

    scenario, network = _scenario(scenario_path)
    found = day_exposure(scenario, network, visitors=visitors, seed=seed)
    fields = ("all_h", "crowded_h", "lakeside_h", "mountain_h")
    values = ", ".join(f"{name} = {getattr(found, name):.0f}" for name in fields)
    console.print(f"{{ visitors = {visitors}, {values} }}", highlight=False)


def _save_state(folder: Path, day: date, seed: int, visitors: int, t_s: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    state = {"day": day.isoformat(), "seed": seed, "visitors": visitors, "t_s": t_s}
    (folder / STATE_FILE).write_text(json.dumps(state) + "\n")


def saved_state(folder: Path) -> dict[str, Any] | None:
    """How far the last live day got, if it noted it."""
    path = folder / STATE_FILE
    if not path.exists():
        return None
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except ValueError:
        return None
    return state
