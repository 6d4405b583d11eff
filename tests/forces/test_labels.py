"""Status display labels: data mapped onto the base states."""

from __future__ import annotations

import pytest

from lakeguard.forces.engine import UnitStatus
from lakeguard.forces.labels import InvalidLabel, StatusLabels, check_label, status_labels


def test_every_base_state_has_a_name_and_labels_map_onto_them() -> None:
    labels = status_labels()
    assert set(labels.status) == set(UnitStatus)
    assert labels.get("on_patrol").status == UnitStatus.AVAILABLE  # type: ignore[union-attr]
    assert labels.get("at_post").name.zh == "在岗"  # type: ignore[union-attr]
    assert labels.get("meal_break").status == UnitStatus.UNAVAILABLE  # type: ignore[union-attr]
    grouped = {
        s["status"]: [label["code"] for label in s["labels"]] for s in labels.as_json()["statuses"]
    }
    assert list(grouped) == [s.value for s in UnitStatus]
    assert {"on_patrol", "at_post"} <= set(grouped["available"])


def test_check_label() -> None:
    assert check_label(UnitStatus.AVAILABLE, None) is None
    assert check_label(UnitStatus.UNAVAILABLE, "meal_break").code == "meal_break"  # type: ignore[union-attr]
    with pytest.raises(
        InvalidLabel, match=r"'meal_break' .* is a label of unavailable, not of available"
    ):
        check_label(UnitStatus.AVAILABLE, "meal_break")
    with pytest.raises(InvalidLabel, match="unknown label 'napping'"):
        check_label(UnitStatus.AVAILABLE, "napping")


def test_label_data_is_validated() -> None:
    names = {s.value: {"name": {"zh": "x", "en": "x"}} for s in UnitStatus}
    label = {"code": "a", "status": "available", "name": {"zh": "x", "en": "x"}}
    with pytest.raises(ValueError, match="a code is used twice"):
        StatusLabels.model_validate({"status": names, "label": [label, label]})
    del names["off_duty"]
    with pytest.raises(ValueError, match="no name for off_duty"):
        StatusLabels.model_validate({"status": names})
