"""The twin's side of LakeGuard's public interfaces: the calls a caller, a sensor vendor, a
tracker app and a dispatcher would make, over one HTTP client.

The client is an ``httpx.Client``: a real connection to a running server (live), or the
in-process test client of an embedded one (batch). Either way every call goes through the
API's routing, validation, policies and services.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

TRACKER_SCOPES = ["positions"]


class TwinApiError(RuntimeError):
    """The platform refused a call the twin made; the message names the call and the answer."""

    def __init__(self, call: str, response: httpx.Response) -> None:
        try:
            body = response.json()
            detail = body.get("detail") or body.get("title") or body
        except ValueError:
            detail = response.text[:300]
        super().__init__(f"{call}: HTTP {response.status_code}: {detail}")
        self.status_code = response.status_code


class TwinApi:
    """LakeGuard as the twin uses it, authenticated with an admin token (api, observations)."""

    def __init__(self, client: httpx.Client, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}
        self.tracker_tokens: dict[str, str] = {}  # unit id -> its tracker app's token
        self.roster: dict[str, dict[str, Any]] = {}  # unit id -> the unit as last listed
        self.calls = 0

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.calls += 1
        headers = kwargs.pop("headers", self.headers)
        try:
            response = self.client.request(method, path, headers=headers, **kwargs)
        except httpx.RemoteProtocolError:
            # A kept-alive connection the server closed as the request went out: a read (an
            # OsmAnd report is one) is safe to send again; a write is not retried.
            if method != "GET":
                raise
            response = self.client.request(method, path, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise TwinApiError(f"{method} {path}", response)
        return response

    # -- set-up ---------------------------------------------------------------------------

    def clock(self) -> dict[str, Any]:
        return dict(self._call("GET", "/api/v1/clock").json())

    def units(self) -> list[dict[str, Any]]:
        listed = list(self._call("GET", "/api/v1/units").json())
        self.roster = {unit["id"]: unit for unit in listed}
        return listed

    def equip_tracker(self, unit: dict[str, Any]) -> None:
        """Give a unit a tracker app: a device id (if it has none) and a token bound to it."""
        device = unit.get("device_id")
        if not device:
            device = f"twin-{unit['id']}"
            self._call("PATCH", f"/api/v1/units/{unit['id']}", json={"device_id": device})
            unit["device_id"] = device
        issued = self._call(
            "POST",
            "/api/v1/auth/tokens",
            json={"unit_id": unit["id"], "scopes": TRACKER_SCOPES, "label": "twin tracker"},
        ).json()
        self.tracker_tokens[unit["id"]] = issued["token"]

    # -- sensors, trackers ----------------------------------------------------------------

    def report_observations(self, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
        return dict(self._call("POST", "/api/v1/observations", json=list(items)).json())

    def report_position(
        self,
        unit_id: str,
        at: datetime,
        lon: float,
        lat: float,
        speed_ms: float,
        bearing_deg: float | None,
    ) -> None:
        """One OsmAnd report, as a phone's tracker app sends it (query form, token in it)."""
        unit = self.roster[unit_id]
        if unit_id not in self.tracker_tokens:
            self.equip_tracker(unit)
        params: dict[str, str | float] = {
            "id": unit["device_id"],
            "lat": round(lat, 7),
            "lon": round(lon, 7),
            "timestamp": int(at.astimezone(UTC).timestamp()),
            "speed": round(speed_ms, 2),
            "token": self.tracker_tokens[unit_id],
        }
        if bearing_deg is not None:
            params["bearing"] = round(bearing_deg, 1)
        self._call("GET", "/api/v1/positions/osmand", params=params, headers={})

    # -- the command room -----------------------------------------------------------------

    def report_incident(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/api/v1/incidents", json=body).json())

    def dispatch_recommended(self, incident_id: int) -> list[str]:
        sent = self._call(
            "POST",
            f"/api/v1/incidents/{incident_id}/dispatch",
            json={"accept_recommendation": True},
        ).json()
        return list(sent["dispatched"])

    def report_progress(self, incident_id: int, unit_id: str, status: str) -> None:
        self._call(
            "POST",
            f"/api/v1/incidents/{incident_id}/assignments/{unit_id}",
            json={"status": status},
        )

    def close_incident(self, incident_id: int) -> None:
        self._call("POST", f"/api/v1/incidents/{incident_id}/close")

    def incident(self, incident_id: int) -> dict[str, Any]:
        return dict(self._call("GET", f"/api/v1/incidents/{incident_id}").json())

    def incidents(self) -> list[dict[str, Any]]:
        """Every incident on the board, open or closed (a day's worth)."""
        return list(self._call("GET", "/api/v1/incidents", params={"limit": 5000}).json())

    def events(self, after: int, topics: str) -> tuple[list[dict[str, Any]], int]:
        """Events after a sequence number, every page of them, and where to read on from."""
        found: list[dict[str, Any]] = []
        while True:
            page = self._call(
                "GET", "/api/v1/events", params={"after": after, "topics": topics, "limit": 5000}
            ).json()
            found += page["events"]
            if page["next_after"] == after:
                return found, after
            after = page["next_after"]

    def crowd_history(self, area_id: str, hours: float) -> list[dict[str, Any]]:
        """The platform's estimates of an area's occupancy over the last ``hours``."""
        found = self._call("GET", f"/api/v1/crowd/{area_id}/series", params={"hours": hours})
        return list(found.json()["history"])

    def alerts(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/api/v1/alerts", params={"include_closed": "true"}).json())
