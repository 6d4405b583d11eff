from dataclasses import dataclass

import pytest
from pydantic import ValidationError

from lakeguard.store.base import RowRead


class _Read(RowRead):
    id: int
    name: str


@dataclass
class _Row:
    id: int
    name: str
    secret: str


def test_of_reads_the_fields_from_the_row_attributes_and_nothing_else() -> None:
    read = _Read.of(_Row(id=7, name="Yuemiao", secret="s3"))
    assert read.model_dump() == {"id": 7, "name": "Yuemiao"}


def test_of_refuses_a_row_that_lacks_a_field() -> None:
    @dataclass
    class _Short:
        id: int

    with pytest.raises(ValidationError):
        _Read.of(_Short(id=7))
