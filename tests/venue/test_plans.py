"""The plans.toml schema: response plans, crowd alert thresholds and emergency plans."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from lakeguard.crowd.alerts import AlertRules, Level
from lakeguard.venue.plans import CrowdAlertRules, EmergencyPlan, PlanBook, PlanStep, StepAction

NAME = {"zh": "断桥", "en": "Broken Bridge"}
RESPONSE = {
    "code": "lost_child",
    "name": {"zh": "走失儿童", "en": "Lost child"},
    "priority": 1,
    "apco_code": "MISSING",
    "requires": [{"count": 2}],
}


def _emergency(area: str, **extra: Any) -> dict[str, Any]:
    step = {"action": "broadcast", "text": NAME}
    return {"area": area, "name": NAME, "steps": [step], **extra}


def test_a_dispatch_step_needs_a_count_and_a_post() -> None:
    with pytest.raises(ValidationError, match="count ≥ 1 and a post"):
        PlanStep.model_validate({"action": "dispatch", "text": NAME, "count": 2})
    step = PlanStep.model_validate(
        {"action": "dispatch", "text": NAME, "count": 2, "post": "bridge-east"}
    )
    assert (step.action, step.count, step.post) == (StepAction.DISPATCH, 2, "bridge-east")


def test_only_dispatch_steps_carry_units() -> None:
    with pytest.raises(ValidationError, match="dispatch steps only"):
        PlanStep.model_validate({"action": "watch", "text": NAME, "post": "bridge-east"})


def test_an_emergency_trigger_is_an_alert_level_name() -> None:
    assert EmergencyPlan.model_validate(_emergency("bridge")).trigger == "orange"
    with pytest.raises(ValidationError, match="trigger"):
        EmergencyPlan.model_validate(_emergency("bridge", trigger="purple"))
    for name in ("yellow", "orange", "red"):
        plan = EmergencyPlan.model_validate(_emergency("bridge", trigger=name))
        assert Level.parse(plan.trigger).label == name


@pytest.mark.parametrize(
    ("table", "reason"),
    [
        ({"yellow_ratio": 0.9, "orange_ratio": 0.8}, "ratios must rise"),
        ({"orange_ratio": 1.2}, "ratios must rise"),
        ({"density_warning": 5.0, "density_critical": 5.0}, "density thresholds must rise"),
    ],
)
def test_alert_thresholds_must_rise(table: dict[str, float], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        CrowdAlertRules.model_validate(table)


def test_the_alert_table_becomes_the_crowd_alert_rules() -> None:
    table = CrowdAlertRules(yellow_ratio=0.7, density_critical=6.0, clear_hold_s=60.0)
    rules = AlertRules.from_table(table)
    assert (rules.yellow_ratio, rules.density_critical, rules.clear_hold_s) == (0.7, 6.0, 60.0)
    assert AlertRules.from_table(CrowdAlertRules()) == AlertRules()


def test_a_plan_book_finds_plans_by_code_and_area() -> None:
    book = PlanBook.model_validate(
        {"plans": [RESPONSE], "emergency": [_emergency("bridge"), _emergency("gushan")]}
    )
    assert list(book.by_code()) == ["lost_child"]
    assert book.by_code()["lost_child"].requires[0].count == 2
    found = book.emergency_for("gushan")
    assert found is not None and found.area == "gushan"
    assert book.emergency_for("lake") is None
    with pytest.raises(ValidationError, match="plans"):
        PlanBook.model_validate({"plans": []})
