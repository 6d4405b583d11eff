from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from lakeguard.config import DEFAULT_SECRET_KEY, Settings, bundled_scenario


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.database_url is None
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'data' / 'lakeguard.sqlite3'}"
    assert settings.bus_url == "memory://"
    assert settings.scenario_path == bundled_scenario()
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEGUARD_DATABASE_URL", "postgresql+psycopg://u@db/lakeguard")
    monkeypatch.setenv("LAKEGUARD_PORT", "9000")
    monkeypatch.setenv("LAKEGUARD_BUS_URL", "nats://127.0.0.1:4222")
    settings = Settings()
    assert settings.effective_database_url == "postgresql+psycopg://u@db/lakeguard"
    assert settings.port == 9000
    assert settings.bus_url == "nats://127.0.0.1:4222"


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="LAKEGUARD_SECRET_KEY is at its development default"):
        Settings(environment="production")
    assert Settings(environment="production", secret_key="x" * 32).secret_key == "x" * 32
    assert Settings().secret_key == DEFAULT_SECRET_KEY


def test_bad_values_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAKEGUARD_PORT", "70000")
    with pytest.raises(ValidationError, match="port"):
        Settings()
    monkeypatch.delenv("LAKEGUARD_PORT")
    with pytest.raises(ValidationError, match="bus_url must start with"):
        Settings(bus_url="kafka://x")
