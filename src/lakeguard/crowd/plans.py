"""Emergency plans (应急预案) for crowded areas and the alert thresholds, as scenario data.

They live in the scenario's ``plans.toml`` beside the incident response plans: ``[crowd_alerts]``
sets the thresholds and ``[[emergency]]`` gives, per area, the steps to take when its alert
reaches the plan's trigger level. A step is a checklist item with an owner and a due time; a
``dispatch`` step is carried out at once through the recommendation and dispatch actions.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lakeguard.crowd.alerts import AlertRules, Level
from lakeguard.venue.schema import Name, Slug


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    trigger: str = Field("orange", pattern=r"^(yellow|orange|red)$")
    incident_type: str = Field("crowd_crush_risk", pattern=r"^[a-z][a-z0-9_]*$")
    steps: tuple[PlanStep, ...] = Field(min_length=1)

    @property
    def trigger_level(self) -> Level:
        return Level.parse(self.trigger)


class CrowdAlertRules(Strict):
    """The ``[crowd_alerts]`` table; each field as in :class:`AlertRules`."""

    yellow_ratio: float = Field(0.80, gt=0)
    orange_ratio: float = Field(0.90, gt=0)
    red_ratio: float = Field(1.00, gt=0)
    density_warning: float = Field(4.0, gt=0)
    density_critical: float = Field(5.0, gt=0)
    ratio_margin: float = Field(0.05, ge=0, lt=0.5)
    density_margin: float = Field(0.5, ge=0)
    raise_hold_s: float = Field(15.0, ge=0, le=3600)
    clear_hold_s: float = Field(120.0, ge=0, le=3600)
    raise_confidence: float = Field(
        0.8,
        ge=0,
        lt=1,
        description="orange and red rise only when the low end of the estimate's central "
        "interval of this probability passes their threshold; 0 raises on the estimate alone",
    )

    @model_validator(mode="after")
    def _consistent(self) -> CrowdAlertRules:
        self.rules()  # raises ValueError naming the inconsistency
        return self

    def rules(self) -> AlertRules:
        return AlertRules(**self.model_dump())
