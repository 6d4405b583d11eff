"""`lakeguard demo`: the server on the embedded database and a live twin day feeding it.

The server runs in this process on a scaled clock (a day in 24 minutes at 60x); the twin runs
in a child process and talks to it over HTTP like any other client, so the two use both
cores and the twin exercises the same interfaces a deployment's devices and callers would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as day_time
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.panel import Panel

from lakeguard.config import Settings
from lakeguard.venue.loader import load_scenario

console = Console(soft_wrap=True)
DEMO_DATABASE = "lakeguard.sqlite3"


class DemoError(RuntimeError):
    """The demo cannot start as asked; the message says why and what to do."""


def run_demo(
    settings: Settings,
    *,
    speed: float,
    start: str,
    visitors: int,
    seed: int,
    resume: bool,
    twin: bool,
    auto_dispatch: bool,
    prepare: Callable[[bool, datetime], None],
) -> None:
    import uvicorn

    from lakeguard.api.app import create_app
    from lakeguard.clock import ScaledClock
    from lakeguard.twin.cli import TOKEN_ENV, saved_state
    from lakeguard.twin.driver import TWIN_POSITION_MAX_AGE_S
    from lakeguard.twin.embedded import twin_token

    opening = _opening_time(start)
    state = saved_state(settings.data_dir) if resume else None
    if resume and state is None:
        raise DemoError(f"nothing to resume: no twin day noted in {settings.data_dir}")
    zone = ZoneInfo(load_scenario(settings.scenario_path).config.timezone)
    if state is not None:
        day = date.fromisoformat(state["day"])
        begin = datetime.combine(day, day_time(), zone) + timedelta(seconds=float(state["t_s"]))
    else:
        begin = datetime.combine(datetime.now(zone).date(), opening, zone)
        _fresh_database(settings)
    prepare(not resume, begin)
    clock = ScaledClock(begin, speed)
    if twin and "LAKEGUARD_POSITION_MAX_AGE_S" not in os.environ:
        settings = settings.model_copy(update={"position_max_age_s": TWIN_POSITION_MAX_AGE_S})
    url = f"http://{settings.host}:{settings.port}"
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, clock=clock),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            timeout_keep_alive=30,  # the twin's connection waits between steps; keep it open
        )
    )
    thread = threading.Thread(target=server.run, name="lakeguard-server", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise DemoError(f"the server did not start on {url} (is the port taken?)")
        time.sleep(0.05)
    console.print(
        Panel(
            f"dashboard  [bold]{url}/[/bold]\nAPI docs   [bold]{url}/docs[/bold]\n"
            f"venue time {begin:%Y-%m-%d %H:%M} at {speed:g}x"
            + ("" if twin else " (no twin: the venue is quiet)"),
            title="LakeGuard demo",
            border_style="green",
        )
    )
    child = None
    if twin:
        env = dict(
            os.environ,
            **{TOKEN_ENV: twin_token(settings.effective_database_url, now=datetime.now(zone))},
        )
        command = [
            sys.executable, "-m", "lakeguard.cli", "twin", "live", "--url", url,
            "--visitors", str(state["visitors"] if state else visitors),
            "--seed", str(state["seed"] if state else seed),
            "--state-dir", str(settings.data_dir),
        ]  # fmt: skip
        if not auto_dispatch:
            command.append("--no-auto-dispatch")
        child = subprocess.Popen(command, env=env)
    # A service manager stops with SIGTERM: take it as Ctrl-C, so the twin is stopped too.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        console.print("stopping …")
    finally:
        if child is not None:
            _stop(child)
        server.should_exit = True
        thread.join(10)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop(child: subprocess.Popen[bytes]) -> None:
    """Stop the twin: it has had Ctrl-C too when it shares the terminal; otherwise ask it."""
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
    try:
        child.wait(30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _opening_time(text: str) -> day_time:
    try:
        return day_time.fromisoformat(text)
    except ValueError as exc:
        raise DemoError(f"--start {text!r}: give a local time of day such as 08:00") from exc


def _fresh_database(settings: Settings) -> None:
    """A fresh day starts on a fresh embedded database; an external one is left alone."""
    if settings.database_url:
        console.print(
            "[yellow]LAKEGUARD_DATABASE_URL is set: its earlier records stay; the new day is "
            "added to them[/yellow]"
        )
        return
    for suffix in ("", "-wal", "-shm"):
        (settings.data_dir / (DEMO_DATABASE + suffix)).unlink(missing_ok=True)
