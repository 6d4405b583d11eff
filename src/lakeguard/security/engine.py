"""The pure core of joint policing with security companies: task types and the training report."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from lakeguard.errors import Invalid


class InvalidMonth(Invalid):
    """A month that is not ``YYYY-MM``."""


class TaskType(StrEnum):
    AREA_DEFENCE = "area_defence"
    CROWD_CONTROL = "crowd_control"
    LANDSCAPE_PROTECTION = "landscape_protection"
    NIGHT_PATROL = "night_patrol"


class TrainingType(StrEnum):
    ANTI_TERROR = "anti_terror"
    EMERGENCY_RESCUE = "emergency_rescue"
    FIRST_AID = "first_aid"
    WATER_RESCUE = "water_rescue"
    FIRE = "fire"


class CertificateKind(StrEnum):
    SECURITY_GUARD = "security_guard"  # 保安员证
    FIRST_AID = "first_aid"
    FIRE_SAFETY = "fire_safety"
    LIFEGUARD = "lifeguard"
    DRONE_PILOT = "drone_pilot"


def month_bounds(month: str) -> tuple[date, date]:
    """First and last day of a month given as ``YYYY-MM``."""
    try:
        year, number = (int(part) for part in month.split("-"))
        last = calendar.monthrange(year, number)[1]
    except (ValueError, calendar.IllegalMonthError) as exc:
        raise InvalidMonth(f"a month is YYYY-MM, got {month!r}", field="month") from exc
    return date(year, number, 1), date(year, number, last)


@dataclass(frozen=True)
class CompanyTraining:
    company_id: str
    guards: int
    trained: tuple[str, ...]  # guards who trained in the month
    overdue: tuple[str, ...]  # guards with no training in the window ending the month

    @property
    def trained_share(self) -> float | None:
        return len(self.trained) / self.guards if self.guards else None


def training_report(
    guards: Mapping[str, Iterable[str]],
    attended: Mapping[str, Iterable[date]],
    month: str,
    overdue_days: int,
) -> list[CompanyTraining]:
    """Per company: who trained in ``month``, who has no training in the ``overdue_days``
    up to the month's last day. ``guards`` maps company → unit ids; ``attended`` unit → dates.
    """
    first, last = month_bounds(month)
    window_start = last - timedelta(days=overdue_days - 1)
    report = []
    for company_id, units in sorted(guards.items()):
        units = sorted(units)
        trained, overdue = [], []
        for unit in units:
            days = [d for d in attended.get(unit, ()) if d <= last]
            if any(first <= d for d in days):
                trained.append(unit)
            if not any(window_start <= d for d in days):
                overdue.append(unit)
        report.append(CompanyTraining(company_id, len(units), tuple(trained), tuple(overdue)))
    return report
