"""Writing the day's report: JSON for machines, Markdown for people, PNG charts of the main
hotspots' occupancy against their capacity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from lakeguard.twin.eta_parts import PARTS
from lakeguard.twin.record import TwinRecord
from lakeguard.twin.report import Series
from lakeguard.venue.loader import Scenario

CHARTED = (
    "broken-bridge",
    "bai-causeway",
    "gushan",
    "su-causeway-north",
    "lingyin-temple",
    "hubin-lakeside",
    "leifeng-pagoda",
    "xixi-core",
)
LEVEL_COLOURS = (("yellow", 0.8, "#d4b106"), ("orange", 0.9, "#fa8c16"), ("red", 1.0, "#f5222d"))


def write_report(
    report: dict[str, Any],
    record: TwinRecord,
    scenario: Scenario,
    out: Path,
    estimates: Series | None = None,
) -> list[Path]:
    """Write report.json, report.md and the charts into ``out``; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "report.json", out / "report.md"]
    written[0].write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    charts = _charts(record, scenario, out / "charts", estimates or {})
    written[1].write_text(markdown(report, [c.relative_to(out) for c in charts]))
    return written + charts


def markdown(report: dict[str, Any], charts: list[Path]) -> str:
    run = report["run"]
    lines = [
        f"# Twin day {run['day']}: {run['visitors']:,} visitors (seed {run['seed']})",
        "",
        f"Scenario `{run['scenario']}`; played from {run['start']} to {run['end']} through the "
        f"platform's API ({run['api_calls']:,} calls). Crowd figures are the twin's truth; "
        "incidents, response times and alerts are what the platform recorded.",
        "",
        "## Calibration",
        "",
        "| figure | public | twin | |",
        "|---|---|---|---|",
    ]
    for row in report["calibration"]:
        mark = {True: "✓", False: "✗", None: ""}[row["met"]]
        lines.append(f"| {row['figure']} | {row['public']} | {_num(row['twin'])} | {mark} |")
    visitors = report["visitors"]
    lines += [
        "",
        "## Visitors",
        "",
        f"Peak in the venue: {visitors['peak_in_venue']:,} at {visitors['peak_in_venue_at']}.",
        "",
        "| hour | arrived | in the venue at the hour's end |",
        "|---|---|---|",
    ]
    for hour, (came, inside) in enumerate(
        zip(visitors["arrived_per_hour"], visitors["in_venue_at_hour_end"], strict=True)
    ):
        if came or inside:
            lines.append(f"| {hour:02d}:00 | {came:,} | {inside:,} |")
    lines += [
        "",
        "## Hotspots",
        "",
        "| hotspot | capacity | peak | ratio | at | min ≥80% | min ≥90% | min ≥100% "
        "| platform alert min | platform highest | platform estimate: peak, mean error |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for h in sorted(report["hotspots"], key=lambda h: -h["peak_ratio"]):
        lines.append(
            f"| {h['name']} | {h['capacity']:,} | {h['peak']:,} | {h['peak_ratio']:.0%} "
            f"| {h['peak_at']} | {h['minutes_yellow']} | {h['minutes_orange']} "
            f"| {h['minutes_red']} | {h['platform_alert_minutes']} "
            f"| {h['platform_highest_level']} | {_estimate(h)} |"
        )
    lines += _incident_lines(report)
    lines += ["", "## Charts", ""] + [f"![{c.stem}]({c.as_posix()})" for c in charts]
    return "\n".join(lines) + "\n"


def _incident_lines(report: dict[str, Any]) -> list[str]:
    incidents, response = report["incidents"], report["response"]
    lines = [
        "",
        "## Incidents",
        "",
        f"{incidents['total_recorded']} recorded by the platform.",
        "",
        "| type | called in | recorded | closed | p50 to on scene | p90 |",
        "|---|---|---|---|---|---|",
    ]
    for row in incidents["by_type"]:
        r = response["by_type"].get(row["type"], {})
        lines.append(
            f"| {row['type']} | {row['called']} | {row['recorded']} | {row['closed']} "
            f"| {_secs(r.get('p50_s'))} | {_secs(r.get('p90_s'))} |"
        )
    lines += ["", "| station | incidents reached | p50 | p90 |", "|---|---|---|---|"]
    for station, r in response["by_station"].items():
        lines.append(f"| {station} | {r['n']} | {_secs(r['p50_s'])} | {_secs(r['p90_s'])} |")
    promise, eta = response["point_promise"], response["eta_error_s"]
    share = "n/a" if promise["share"] is None else f"{promise['share']:.0%}"
    lines += [
        "",
        f"**One-minute promise**: of {promise['incidents_near_points']} incidents within a "
        f"minute's walk of a patrol point, {promise['within_60_s']} had a unit on scene within "
        f"60 s of dispatch ({share}).",
        "",
        f"**ETA error** (travel taken minus the platform's estimate, {eta['n']} arrivals): "
        f"p50 {_secs(eta['p50_s'])}, p90 {_secs(eta['p90_s'])}.",
        "",
        *_eta_parts(response["eta_error_parts"]),
        "## Units",
        "",
        f"{report['units']['units_dispatched']} units were dispatched. Share of the day busy "
        "(dispatch to resolved), by kind:",
        "",
    ]
    for kind, share_busy in report["units"]["busy_share_by_kind"].items():
        lines.append(f"- {kind}: {_pct(share_busy)}")
    if incidents["open_with_reason"]:
        lines += ["", "## Still open at the end", ""]
        lines += [
            f"- #{o['incident']} {o['type']}: {o['reason']}" for o in incidents["open_with_reason"]
        ]
    checks = report["checks"]
    lines += [
        "",
        "## Checks",
        "",
        f"- dispatches: {checks['dispatches']}; arrived earlier than free-flow travel allows: "
        f"{checks['arrived_before_free_flow_allows']}",
        f"- observations sent: {checks['observations_sent']:,}; refused: "
        f"{checks['observations_refused']:,}; positions sent: {checks['positions_sent']:,}",
        f"- anomalies: {checks['anomaly_count']}",
    ]
    lines += [f"  - {a}" for a in checks["anomalies"][:10]]
    return lines


def _estimate(row: dict[str, Any]) -> str:
    if row["platform_peak_estimate"] is None:
        return "not observed"
    share = row["estimate_mae_of_capacity"]
    return f"{row['platform_peak_estimate']:,}, {row['estimate_mae']:,} ({share:.1%} of capacity)"


def _num(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int | float) else str(value)


def _secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} s"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.2%}"


def _charts(record: TwinRecord, scenario: Scenario, folder: Path, estimates: Series) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    hours = (np.arange(len(record.in_venue)) + 1) * record.step_s / 3600
    areas = {a.id: a for a in scenario.areas}
    written = []
    for area_id in CHARTED:
        if area_id not in areas or area_id not in record.area_ids:
            continue
        area = areas[area_id]
        series = record.occupancy[:, record.area_ids.index(area_id)]
        fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
        ax.plot(hours, series, color="#1f4e79", linewidth=1.2, label="occupancy (twin's truth)")
        if area_id in estimates and len(estimates[area_id][0]):
            seconds, values = estimates[area_id]
            ax.plot(
                seconds / 3600, values, color="#13a8a8", linewidth=0.9, label="platform's estimate"
            )
        if area.capacity:
            for name, share, colour in LEVEL_COLOURS:
                ax.axhline(area.capacity * share, color=colour, linewidth=0.8, label=name)
        ax.set_xlim(0, 24)
        ax.set_xticks(range(0, 25, 3))
        ax.set_xlabel("hour (local)")
        ax.set_ylabel("persons")
        ax.set_title(f"{area.name.en} · capacity {area.capacity or 0:,}")
        ax.legend(loc="upper left", fontsize=7, frameon=False)
        fig.tight_layout()
        path = folder / f"{area_id}.png"
        fig.savefig(path, metadata={"Software": None})
        plt.close(fig)
        written.append(path)
    return written


def _eta_parts(parts: dict[str, Any]) -> list[str]:
    """The ETA error split into turnout, position, route and speed, and the platform's model
    (means add up to the mean error; see ``twin/eta_parts.py``)."""
    lines = [
        "| arrivals | n | mean error | " + " | ".join(f"{p} mean (p50)" for p in PARTS) + " |",
        "|---|---|---|" + "---|" * len(PARTS),
    ]
    for name, label in (("all", "all"), ("known_point", "caller gave coordinates")):
        row = parts[name]
        if not row["n"]:
            continue
        cells = " | ".join(f"{row[p]['mean_s']:+.0f} s ({row[p]['p50_s']:+.0f} s)" for p in PARTS)
        lines.append(f"| {label} | {row['n']} | {row['error']['mean_s']:+.0f} s | {cells} |")
    lines += ["", f"Position age at dispatch, p50: {_secs(parts['position_age_p50_s'])}."]
    for name, label in (("all", "all arrivals"), ("known_point", "known points")):
        row = parts[name]
        if row["n"]:
            coverage = "n/a" if row["p90_coverage"] is None else f"{row['p90_coverage']:.0%}"
            lines.append(
                f"Absolute ETA error over {label}: p50 {_secs(row['abs_error']['p50_s'])}, p90 "
                f"{_secs(row['abs_error']['p90_s'])}; within the predicted p90: {coverage}."
            )
    lines.append("")
    return lines
