"""The timeline as a state machine: no illegal move passes, the incident never goes back."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from lakeguard.incidents.states import (
    ASSIGNMENT_MOVES,
    INCIDENT_ORDER,
    AssignmentStatus,
    IllegalTransition,
    IncidentStatus,
    check_assignment_move,
    check_can_cancel,
    check_can_close,
    check_can_dispatch,
    incident_status_after,
)

A = AssignmentStatus


@given(st.sampled_from(list(A)), st.sampled_from(list(A)))
def test_every_assignment_move_is_either_in_the_table_or_refused(a: A, b: A) -> None:
    if b in ASSIGNMENT_MOVES[a]:
        check_assignment_move(a, b)
    else:
        with pytest.raises(IllegalTransition, match=f"from {a.value} to {b.value}"):
            check_assignment_move(a, b)


def test_the_happy_path() -> None:
    status = IncidentStatus.RECEIVED
    for units in ([A.DISPATCHED], [A.ACKNOWLEDGED], [A.ON_SCENE], [A.RESOLVED]):
        status = incident_status_after(status, units)
    assert status == IncidentStatus.RESOLVED
    check_can_close(status)


def test_resolution_waits_for_every_unit_still_on_it() -> None:
    assert (
        incident_status_after(IncidentStatus.ON_SCENE, [A.RESOLVED, A.ACKNOWLEDGED])
        == IncidentStatus.ON_SCENE
    )
    assert (
        incident_status_after(IncidentStatus.ON_SCENE, [A.RESOLVED, A.CANCELLED])
        == IncidentStatus.RESOLVED
    )


class Timeline(RuleBasedStateMachine):
    """Random dispatcher and unit actions; the machine must accept exactly the legal ones."""

    def __init__(self) -> None:
        super().__init__()
        self.incident = IncidentStatus.RECEIVED
        self.units: dict[int, A] = {}
        self.reached = 0

    def _refresh(self) -> None:
        self.incident = incident_status_after(self.incident, self.units.values())

    @rule()
    def dispatch(self) -> None:
        if self.incident in (IncidentStatus.RECEIVED, IncidentStatus.DISPATCHED,
                             IncidentStatus.ACKNOWLEDGED, IncidentStatus.ON_SCENE):  # fmt: skip
            check_can_dispatch(self.incident)
            self.units[len(self.units)] = A.DISPATCHED
            self._refresh()
        else:
            with pytest.raises(IllegalTransition):
                check_can_dispatch(self.incident)

    @precondition(lambda self: bool(self.units))
    @rule(data=st.data(), target_status=st.sampled_from(list(A)))
    def move_unit(self, data: st.DataObject, target_status: A) -> None:
        unit = data.draw(st.sampled_from(sorted(self.units)))
        current = self.units[unit]
        if target_status in ASSIGNMENT_MOVES[current]:
            check_assignment_move(current, target_status)
            self.units[unit] = target_status
            self._refresh()
        else:
            with pytest.raises(IllegalTransition):
                check_assignment_move(current, target_status)

    @rule()
    def close(self) -> None:
        if self.incident == IncidentStatus.RESOLVED:
            check_can_close(self.incident)
            self.incident = IncidentStatus.CLOSED
        else:
            with pytest.raises(IllegalTransition):
                check_can_close(self.incident)

    @rule()
    def cancel(self) -> None:
        if self.incident in (
            IncidentStatus.RECEIVED,
            IncidentStatus.DISPATCHED,
            IncidentStatus.ACKNOWLEDGED,
        ):
            check_can_cancel(self.incident)
            self.incident = IncidentStatus.CANCELLED
        else:
            with pytest.raises(IllegalTransition):
                check_can_cancel(self.incident)

    @invariant()
    def never_goes_back(self) -> None:
        if self.incident in INCIDENT_ORDER:
            position = INCIDENT_ORDER.index(self.incident)
            assert position >= self.reached
            self.reached = position

    @invariant()
    def on_scene_means_someone_arrived(self) -> None:
        if self.incident == IncidentStatus.ON_SCENE:
            assert any(s in (A.ON_SCENE, A.RESOLVED) for s in self.units.values())


Timeline.TestCase.settings = settings(max_examples=200, stateful_step_count=30, deadline=None)
test_timeline_state_machine = Timeline.TestCase
