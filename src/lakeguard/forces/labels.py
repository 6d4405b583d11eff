"""Status display labels, read from ``status_labels.toml`` in this package (labels as data)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lakeguard.errors import Invalid
from lakeguard.forces.engine import UnitStatus
from lakeguard.venue.schema import Name

LabelCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=32)]


class StatusLabel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: LabelCode
    status: UnitStatus
    name: Name


class _StatusName(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name


class StatusLabels(BaseModel):
    """Every base status's own name and the labels that map onto the base states."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: dict[UnitStatus, _StatusName]
    label: tuple[StatusLabel, ...] = ()

    @model_validator(mode="after")
    def _complete_and_unique(self) -> StatusLabels:
        missing = set(UnitStatus) - set(self.status)
        if missing:
            raise ValueError(f"status: no name for {', '.join(sorted(missing))}")
        codes = [label.code for label in self.label]
        if len(codes) != len(set(codes)):
            raise ValueError("label: a code is used twice")
        return self

    def get(self, code: str) -> StatusLabel | None:
        return next((label for label in self.label if label.code == code), None)

    def as_json(self) -> dict[str, Any]:
        """The base states with their names and, under each, the labels that map onto it."""
        return {
            "statuses": [
                {
                    "status": status.value,
                    "name": self.status[status].name.model_dump(),
                    "labels": [
                        {"code": label.code, "name": label.name.model_dump()}
                        for label in self.label
                        if label.status == status
                    ],
                }
                for status in UnitStatus
            ]
        }


class InvalidLabel(Invalid):
    """A label code that is unknown or belongs to another base status."""

    title = "Invalid label"


@cache
def status_labels() -> StatusLabels:
    """The labels shipped with LakeGuard (read and validated once)."""
    text = (resources.files("lakeguard.forces") / "status_labels.toml").read_text("utf-8")
    return StatusLabels.model_validate(tomllib.loads(text))


def check_label(status: UnitStatus, code: str | None) -> StatusLabel | None:
    """The label for a code, which must map onto ``status``; None for no label."""
    if code is None:
        return None
    label = status_labels().get(code)
    if label is None:
        known = ", ".join(label.code for label in status_labels().label)
        raise InvalidLabel(f"label: unknown label {code!r} (known: {known})", field="label")
    if label.status != status:
        raise InvalidLabel(
            f"label: {code!r} ({label.name.en}) is a label of {label.status.value}, "
            f"not of {status.value}",
            field="label",
        )
    return label
