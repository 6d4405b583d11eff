"""Problems found in a scenario, each naming the file, feature, field and what is wrong."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario."""

    file: str
    index: int | None = None
    feature_id: str | None = None
    field: str | None = None
    message: str = ""

    def __str__(self) -> str:
        parts = [self.file]
        if self.index is not None:
            named = f" ({self.feature_id})" if self.feature_id else ""
            parts.append(f"feature {self.index}{named}")
        if self.field:
            parts.append(self.field)
        return ": ".join([*parts, self.message])


class ScenarioError(Exception):
    """A scenario that cannot be used, with every problem found in it."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        lines = "\n".join(str(p) for p in self.problems[:50])
        more = f"\n... and {count - 50} more" if count > 50 else ""
        plural = "s" if count != 1 else ""
        super().__init__(f"{count} problem{plural} in the scenario:\n{lines}{more}")
