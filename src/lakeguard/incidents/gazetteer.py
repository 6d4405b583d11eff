"""Places by name: callers say "断桥" or "Broken Bridge", not coordinates.

Built from the scenario's areas (Chinese and English names, aliases) and posts. A name
resolves by exact match after normalisation (traditional characters folded to simplified,
so "斷橋" is "断桥"), then by the longest known name contained in what was said ("断桥东侧" is
at the Broken Bridge), then by the shortest known name that contains what was said
("Leifeng" is Leifeng Pagoda), then by fuzzy match (typos). An unknown place raises
:class:`UnknownPlace` with the closest names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import opencc
from rapidfuzz import fuzz, process

from lakeguard.errors import Invalid
from lakeguard.venue.loader import Scenario

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
# The words callers add around a place name; dropped before matching.
_FILLERS = ("the ", "附近", "旁边", "边上", "那里", "这里")
FUZZY_CUTOFF = 80.0
MIN_CONTAINED_LEN = 2


@lru_cache(maxsize=1)
def _to_simplified() -> opencc.OpenCC:
    return opencc.OpenCC("t2s.json")


def normalise(text: str) -> str:
    """Fold traditional characters, width, case, spaces and punctuation."""
    folded = _to_simplified().convert(unicodedata.normalize("NFKC", text)).casefold()
    for filler in _FILLERS:
        folded = folded.replace(filler, " ")
    return _NOISE.sub("", folded)


@dataclass(frozen=True)
class Place:
    """A resolved place: where it is and what was matched."""

    area_id: str | None
    post_id: str | None
    name_zh: str
    name_en: str
    lon: float
    lat: float
    matched: str  # the known name that matched
    how: str  # "exact", "contained", "partial" or "fuzzy"
    score: float


class UnknownPlace(Invalid):
    """No known place matches; ``suggestions`` are the closest names."""

    title = "Unknown place"

    def __init__(self, query: str, suggestions: list[str]) -> None:
        self.query = query
        self.suggestions = suggestions
        hint = f"; closest: {', '.join(suggestions)}" if suggestions else ""
        super().__init__(f"unknown place {query!r}{hint}", field="place", suggestions=suggestions)


@dataclass(frozen=True)
class _Entry:
    key: str
    label: str
    place: Place


class Gazetteer:
    """Name → place lookups over one scenario."""

    def __init__(self, entries: list[_Entry]) -> None:
        self._entries = entries
        self._by_key: dict[str, _Entry] = {}
        for entry in entries:
            self._by_key.setdefault(entry.key, entry)  # areas come first and win ties
        self._keys = list(self._by_key)
        self._by_length = sorted(self._keys, key=len, reverse=True)
        # Area names before post names, then shortest first: "Three Pools" is the island,
        # not the patrol segment named after it.
        self._containing_order = sorted(
            self._keys, key=lambda k: (self._by_key[k].place.post_id is not None, len(k))
        )

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> Gazetteer:
        entries: list[_Entry] = []
        for area in scenario.areas:
            point = area.shape.representative_point()
            for label in (area.name.zh, area.name.en, *area.aliases):
                place = Place(area.id, None, area.name.zh, area.name.en, point.x, point.y,
                              label, "exact", 100.0)  # fmt: skip
                entries.append(_Entry(normalise(label), label, place))
        for post in scenario.posts:
            point = (
                post.shape.interpolate(0.5, normalized=True)
                if post.kind == "segment"
                else post.shape
            )
            area_id = _area_of(scenario, point)
            for label in (post.name.zh, post.name.en):
                place = Place(area_id, post.id, post.name.zh, post.name.en, point.x, point.y,
                              label, "exact", 100.0)  # fmt: skip
                entries.append(_Entry(normalise(label), label, place))
        return cls([e for e in entries if e.key])

    def resolve(self, query: str) -> Place:
        """The place a caller means; raises :class:`UnknownPlace` with suggestions."""
        key = normalise(query)
        if not key:
            raise UnknownPlace(query, [])
        if key in self._by_key:
            return self._with(self._by_key[key], "exact", 100.0)
        for known in self._by_length:
            if len(known) >= MIN_CONTAINED_LEN and known in key:
                return self._with(self._by_key[known], "contained", 100.0 * len(known) / len(key))
        if len(key) >= MIN_CONTAINED_LEN + 1:
            for known in self._containing_order:
                if key in known:
                    return self._with(self._by_key[known], "partial", 100.0 * len(key) / len(known))
        best = process.extractOne(key, self._keys, scorer=fuzz.WRatio, score_cutoff=FUZZY_CUTOFF)
        if best is not None:
            return self._with(self._by_key[best[0]], "fuzzy", float(best[1]))
        raise UnknownPlace(query, self.suggest(query))

    def suggest(self, query: str, limit: int = 5) -> list[str]:
        """The closest known names, for completion and for errors."""
        key = normalise(query)
        if not key:
            return []
        found = process.extract(key, self._keys, scorer=fuzz.WRatio, limit=limit * 3)
        labels: list[str] = []
        for known, _score, _ in found:
            label = self._by_key[known].label
            if label not in labels:
                labels.append(label)
        return labels[:limit]

    @staticmethod
    def _with(entry: _Entry, how: str, score: float) -> Place:
        p = entry.place
        return Place(
            p.area_id, p.post_id, p.name_zh, p.name_en, p.lon, p.lat, entry.label, how, score
        )


def _area_of(scenario: Scenario, point: object) -> str | None:
    for area in scenario.areas:
        if area.shape.covers(point):
            return area.id
    return None
