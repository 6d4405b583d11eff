"""The scenario's ``plans.toml``: response plans (预案), crowd alert thresholds, emergency plans.

``[[plans]]`` gives, per incident type, what it requires and its target times. ``[crowd_alerts]``
sets the capacity and density thresholds of crowd alerts, and ``[[emergency]]`` gives, per area,
the steps to take when its alert reaches the plan's trigger level. A step is a checklist item
with an owner and a due time; a ``dispatch`` step is carried out at once by the crowd domain
through the recommendation and dispatch actions. These are data only: the domains that act on
them (incidents, crowd) import them from here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from lakeguard.venue.schema import Mode, Name, Slug, Strict

AlertLevelName = Literal["yellow", "orange", "red"]


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


class StepAction(StrEnum):
    CLOSE_ENTRANCE = "close_entrance"
    HOLD_ENTRY = "hold_entry"
    ONE_WAY = "one_way"
    DIVERT = "divert"
    BROADCAST = "broadcast"
    DISPATCH = "dispatch"
    WATCH = "watch"


# Who may own a step: a role of the command room, or a station (``station:<id>``).
OWNER_PATTERN = r"^(commander|dispatcher|field_officer|guard|station:[a-z0-9][a-z0-9-]*)$"


class PlanStep(Strict):
    action: StepAction
    text: Name
    owner: str = Field("commander", pattern=OWNER_PATTERN)
    due_s: int = Field(300, ge=0, le=86_400, description="due this long after the plan starts")
    # Dispatch steps only: how many units, with which capability, to which post.
    capability: str | None = None
    count: int = Field(0, ge=0, le=50)
    post: Slug | None = None

    @model_validator(mode="after")
    def _dispatch_needs_units(self) -> PlanStep:
        if self.action == StepAction.DISPATCH:
            if self.count < 1 or self.post is None:
                raise ValueError("a dispatch step needs count ≥ 1 and a post")
        elif self.count or self.post or self.capability:
            raise ValueError("count, post and capability belong to dispatch steps only")
        return self


class EmergencyPlan(Strict):
    area: Slug
    name: Name
    trigger: AlertLevelName = Field("orange", description="alert level that starts the plan")
    incident_type: str = Field("crowd_crush_risk", pattern=r"^[a-z][a-z0-9_]*$")
    steps: tuple[PlanStep, ...] = Field(min_length=1)


class CrowdAlertRules(Strict):
    """The ``[crowd_alerts]`` table: the thresholds and damping of crowd alerts."""

    yellow_ratio: float = Field(0.80, gt=0, description="occupancy / capacity for yellow")
    orange_ratio: float = Field(0.90, gt=0, description="occupancy / capacity for orange")
    red_ratio: float = Field(1.00, gt=0, description="occupancy / capacity for red")
    density_warning: float = Field(4.0, gt=0, description="persons/m² that counts as orange")
    density_critical: float = Field(5.0, gt=0, description="persons/m² that counts as red")
    ratio_margin: float = Field(
        0.05, ge=0, lt=0.5, description="a level clears below its ratio minus this"
    )
    density_margin: float = Field(
        0.5, ge=0, description="a level clears below its density minus this"
    )
    raise_hold_s: float = Field(15.0, ge=0, le=3600, description="time at a level to raise it")
    clear_hold_s: float = Field(120.0, ge=0, le=3600, description="time below a level to clear")
    raise_confidence: float = Field(
        0.7,
        ge=0,
        lt=1,
        description="orange and red rise and hold only while the low end of the estimate's "
        "central interval of this probability is past their threshold; 0 judges on the "
        "estimate alone",
    )

    @model_validator(mode="after")
    def _rising(self) -> CrowdAlertRules:
        if not self.yellow_ratio < self.orange_ratio < self.red_ratio:
            raise ValueError("alert ratios must rise: 0 < yellow < orange < red")
        if not self.density_warning < self.density_critical:
            raise ValueError("density thresholds must rise: 0 < warning < critical")
        return self


class PlanBook(Strict):
    """The contents of plans.toml: every incident type of a venue, and its emergency plans."""

    plans: tuple[ResponsePlan, ...] = Field(min_length=1)
    crowd_alerts: CrowdAlertRules = CrowdAlertRules()
    emergency: tuple[EmergencyPlan, ...] = ()

    def emergency_for(self, area_id: str) -> EmergencyPlan | None:
        return next((plan for plan in self.emergency if plan.area == area_id), None)

    def by_code(self) -> dict[str, ResponsePlan]:
        return {plan.code: plan for plan in self.plans}
