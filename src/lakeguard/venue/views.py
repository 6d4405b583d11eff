"""Venue endpoints: the summary, the layers for maps, coverage and travel times."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from lakeguard.api.deps import CurrentVenue
from lakeguard.auth.policy import public, require
from lakeguard.auth.roles import STAFF
from lakeguard.errors import Invalid
from lakeguard.venue.coverage import hotspot_coverage
from lakeguard.venue.models import (
    FeatureCollectionRead,
    HotspotCoverageRead,
    TravelTimeRead,
    VenueSummaryRead,
)
from lakeguard.venue.schema import LAYERS, Mode

router = APIRouter(prefix="/api/v1/venue", tags=["venue"])
# Every signed-in role but residents (and devices): the layout of posts and sensors is
# operational detail, not for the public. The summary is counts only and is public, so
# that a fresh install (and a load balancer) can see the venue is loaded.
STAFF_ONLY = [Depends(require(*STAFF))]


class InvalidLocation(Invalid):
    title = "Invalid location"


class ModeNotAvailable(Invalid):
    title = "Mode not available"


Layer = Literal["areas", "stations", "posts", "sensors", "network"]


@router.get(
    "",
    summary="The active venue at a glance",
    response_model=VenueSummaryRead,
    dependencies=[Depends(public())],
)
def read_venue(venue: CurrentVenue) -> dict[str, Any]:
    return venue.summary


@router.get(
    "/layers/{layer}",
    summary="One scenario layer as GeoJSON",
    response_model=FeatureCollectionRead,
    dependencies=STAFF_ONLY,
)
def read_layer(venue: CurrentVenue, layer: Layer) -> dict[str, Any]:
    name = f"{layer}.geojson"
    assert name in LAYERS
    return venue.scenario.feature_collection(name)


@router.get(
    "/coverage",
    response_model=list[HotspotCoverageRead],
    summary="Share of each hotspot the posts reach in time",
    dependencies=STAFF_ONLY,
)
def read_coverage(
    venue: CurrentVenue,
    seconds: Annotated[float, Query(gt=0, le=3600)] = 60,
    mode: Literal["walk", "vehicle", "boat"] = "walk",
) -> list[dict[str, Any]]:
    found = hotspot_coverage(venue.scenario, venue.network, seconds, mode=Mode(mode))
    return [asdict(c) for c in found]


def _lonlat(text: str, name: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        detail = f"{name}: expected 'lon,lat', got {text!r}"
        raise InvalidLocation(detail, field=name) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidLocation(f"{name}: {text!r} is outside WGS84 ranges", field=name)
    return lon, lat


@router.get(
    "/travel-time",
    response_model=TravelTimeRead,
    summary="Seconds from one location to another",
    dependencies=STAFF_ONLY,
)
def read_travel_time(
    venue: CurrentVenue,
    origin: Annotated[str, Query(alias="from", description="lon,lat")],
    destination: Annotated[str, Query(alias="to", description="lon,lat")],
    mode: Literal["walk", "vehicle", "boat", "drone"] = "walk",
) -> dict[str, Any]:
    start, end = _lonlat(origin, "from"), _lonlat(destination, "to")
    travel_mode = Mode(mode)
    if travel_mode != Mode.DRONE and not venue.network.has_mode(travel_mode):
        raise ModeNotAvailable(f"the venue has no {mode} network", field="mode")
    seconds = float(venue.network.travel_times([start], [end], travel_mode)[0, 0])
    return {"mode": mode, "seconds": seconds if seconds != float("inf") else None}
