"""Place names as callers say them, resolved on the West Lake scenario."""

from __future__ import annotations

import pytest

from lakeguard.incidents.gazetteer import Gazetteer, UnknownPlace, normalise
from lakeguard.venue.loader import Scenario


@pytest.fixture(scope="module")
def gazetteer(westlake: Scenario) -> Gazetteer:
    return Gazetteer.from_scenario(westlake)


@pytest.mark.parametrize(
    ("said", "area", "how"),
    [
        ("断桥", "broken-bridge", "exact"),
        ("Broken Bridge", "broken-bridge", "exact"),
        ("  broken   BRIDGE ", "broken-bridge", "exact"),
        ("斷橋", "broken-bridge", "exact"),  # traditional characters
        ("断桥东侧", "broken-bridge", "contained"),
        ("北山街斑马线", "beishan-road", "contained"),
        ("Leifeng", "leifeng-pagoda", "partial"),
        ("Three Pools", "three-pools", "partial"),
        ("Brokn Bridge", "broken-bridge", "fuzzy"),
        ("灵隐寺", "lingyin-temple", "exact"),
        ("Feilai Peak", "feilai-peak", "exact"),
    ],
)
def test_names_resolve(gazetteer: Gazetteer, said: str, area: str, how: str) -> None:
    place = gazetteer.resolve(said)
    assert place.area_id == area
    assert place.how == how
    assert 120.0 < place.lon < 120.2 and 30.2 < place.lat < 30.3


def test_an_unknown_place_lists_the_closest_names(gazetteer: Gazetteer) -> None:
    with pytest.raises(UnknownPlace) as caught:
        gazetteer.resolve("Eiffel Tower")
    assert caught.value.suggestions
    assert "unknown place 'Eiffel Tower'; closest:" in str(caught.value)
    with pytest.raises(UnknownPlace):
        gazetteer.resolve("   ")


def test_suggestions_complete_a_prefix(gazetteer: Gazetteer) -> None:
    assert any("Broken Bridge" in s or "断桥" in s for s in gazetteer.suggest("Broke"))


def test_normalise_folds_width_case_punctuation_and_script() -> None:
    assert normalise("ＢＲＯＫＥＮ-bridge!") == "brokenbridge"
    assert normalise("斷橋") == normalise("断桥")
