"""/api/v1/patrol: compliance from positions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from lakeguard.api.deps import CurrentVenue, DbSession, Now
from lakeguard.auth.policy import Watcher
from lakeguard.errors import Invalid
from lakeguard.patrol.models import ComplianceRead, StopRead, UnitComplianceRead
from lakeguard.patrol.service import day_compliance

router = APIRouter(prefix="/api/v1/patrol", tags=["patrol"])


@router.get("/compliance", summary="Patrol compliance of every unit with a post, for a day")
def compliance(
    who: Watcher,
    session: DbSession,
    venue: CurrentVenue,
    now: Now,
    day: Annotated[
        dt.date | None, Query(alias="date", description="local day; default today")
    ] = None,
) -> ComplianceRead:
    scenario = venue.context.scenario
    today = now.astimezone(ZoneInfo(scenario.config.timezone)).date()
    wanted = day or today
    if wanted > today:
        raise Invalid(f"date: {wanted.isoformat()} is in the future (today is {today.isoformat()})")
    found = day_compliance(
        session, scenario=scenario, network=venue.context.network, day=wanted, now=now
    )
    return ComplianceRead(
        date=wanted,
        units=[
            UnitComplianceRead(
                unit_id=u.unit_id,
                callsign=found.callsigns[u.unit_id],
                kind=found.kinds[u.unit_id],
                post_id=u.post_id,
                post_kind=u.post_kind,
                fixes=u.fixes,
                on_duty_s=u.on_duty_s,
                tracked_s=u.tracked_s,
                walked_share=u.walked_share,
                away_share=u.away_share,
                stops=[
                    StopRead(point_id=s.point_id, start=s.start, duration_s=s.duration_s)
                    for s in u.stops
                ],
                koper_stops=u.koper_stops,
            )
            for u in found.units
        ],
    )
