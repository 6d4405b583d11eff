from collections.abc import Iterator

import pytest
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from lakeguard.errors import NotFound
from lakeguard.store.session import get_or_raise, make_engine


class _Base(DeclarativeBase):
    pass


class _Thing(_Base):
    __tablename__ = "things"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


@pytest.fixture
def session() -> Iterator[Session]:
    engine = make_engine("sqlite://")
    _Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([_Thing(id=1, name="Duanqiao"), _Thing(id=2, name="Sudi")])
        s.commit()
        yield s


def test_get_or_raise_returns_the_row_with_that_key(session: Session) -> None:
    assert get_or_raise(session, _Thing, 2, NotFound("no thing 2")).name == "Sudi"


def test_get_or_raise_raises_the_given_error_when_the_key_is_unknown(session: Session) -> None:
    missing = NotFound("no thing 3")
    with pytest.raises(NotFound) as raised:
        get_or_raise(session, _Thing, 3, missing)
    assert raised.value is missing


def test_get_or_raise_for_update_returns_the_row_the_session_holds(session: Session) -> None:
    held = session.get(_Thing, 1)
    assert get_or_raise(session, _Thing, 1, NotFound("no thing 1"), for_update=True) is held
    with pytest.raises(NotFound):
        get_or_raise(session, _Thing, 9, NotFound("no thing 9"), for_update=True)
