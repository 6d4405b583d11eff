"""``POST /api/v1/observations``: sensors report in batches; dead letters can be read back."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool

from lakeguard.api.deps import DbSession, NoVenueLoaded, State
from lakeguard.auth.policy import Overseer, require
from lakeguard.auth.roles import Principal, Role
from lakeguard.errors import Forbidden
from lakeguard.ingest.models import RejectRead
from lakeguard.ingest.schema import MAX_BATCH, BatchResult
from lakeguard.ingest.service import list_rejects, reject_json

router = APIRouter(prefix="/api/v1", tags=["ingest"])

Device = Annotated[Principal, Depends(require(Role.DEVICE, Role.ADMIN, scope="observations"))]


def _reporter(who: Device) -> Principal:
    """A sensor's own token, or an integration account (a vendor platform's adapter)."""
    if Role.ADMIN not in who.roles and who.sensor_id is None:
        raise Forbidden("only a sensor's own token reports observations")
    return who


Reporter = Annotated[Principal, Depends(_reporter)]


# The body is read as bytes and decoded by the ingest path (msgspec, straight into its own
# types), so it is described here rather than declared as a parameter.
BATCH_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "array",
                "maxItems": MAX_BATCH,
                "items": {"type": "object"},
                "description": "observations, each an object with a kind",
            }
        }
    },
}


@router.post(
    "/observations",
    summary="Report observations (batches of up to 10,000)",
    response_model=BatchResult,
    openapi_extra={"requestBody": BATCH_BODY},
)
async def post_observations(who: Reporter, state: State, request: Request) -> BatchResult:
    if state.ingest is None:
        raise NoVenueLoaded("load a scenario, then restart the server")
    only_sensor = None if Role.ADMIN in who.roles else who.sensor_id
    body = await request.body()
    return await run_in_threadpool(
        state.ingest.ingest_json,
        body,
        sender=who.subject,
        source="http",
        now=state.clock.now(),
        only_sensor=only_sensor,
    )


@router.get(
    "/observations/rejects",
    response_model=list[RejectRead],
    summary="Refused observations (dead letters), newest first",
)
def read_rejects(
    who: Overseer,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    sensor_id: str | None = None,
) -> list[dict[str, Any]]:
    return [reject_json(r) for r in list_rejects(session, limit=limit, sensor_id=sensor_id)]
