"""Response plans (预案): what each incident type requires, as data in the scenario."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from lakeguard.crowd.plans import CrowdAlertRules, EmergencyPlan
from lakeguard.venue.schema import Mode, Name


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Requirement(Strict):
    """Units one plan needs: ``count`` units having ``capability`` (any unit when unset)."""

    capability: str | None = Field(None, description="capability the units must have")
    count: int = Field(1, ge=1, le=50)
    modes: tuple[Mode, ...] = Field((), description="allowed travel modes; empty: any")


class Targets(Strict):
    """Target times in seconds for the NFPA 1710 intervals of this type."""

    processing_s: int = Field(60, gt=0, description="received → first dispatch")
    turnout_s: int = Field(60, gt=0, description="dispatched → en route")
    travel_s: int = Field(240, gt=0, description="en route → on scene")
    response_s: int = Field(300, gt=0, description="received → first on scene")


class ResponsePlan(Strict):
    """One incident type: its priority, exchange code, requirements, targets and steps."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: Name
    priority: int = Field(ge=1, le=4, description="1 is the most urgent")
    apco_code: str = Field(min_length=2, description="APCO ANS 2.103 common incident type")
    requires: tuple[Requirement, ...] = Field(min_length=1)
    targets: Targets = Targets()
    steps: tuple[Name, ...] = ()
    sensitive: bool = Field(False, description="details readable by case roles only, audited")


class PlanBook(Strict):
    """The contents of plans.toml: every incident type of a venue, and its emergency plans."""

    plans: tuple[ResponsePlan, ...] = Field(min_length=1)
    crowd_alerts: CrowdAlertRules = CrowdAlertRules()
    emergency: tuple[EmergencyPlan, ...] = ()

    def emergency_for(self, area_id: str) -> EmergencyPlan | None:
        return next((plan for plan in self.emergency if plan.area == area_id), None)

    def by_code(self) -> dict[str, ResponsePlan]:
        return {plan.code: plan for plan in self.plans}
