"""Settings: one object, read from the environment (prefix ``LAKEGUARD_``) and ``.env``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lakeguard.notify.targets import TargetConfig

DEFAULT_SECRET_KEY = "change-me-lakeguard-development-key"

BUNDLED_SCENARIOS = resources.files("lakeguard") / "scenarios"


def bundled_scenario(name: str = "westlake") -> Path:
    """Path of a scenario shipped inside the package."""
    return Path(str(BUNDLED_SCENARIOS / name))


class Settings(BaseSettings):
    """Everything LakeGuard reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="LAKEGUARD_", env_file=".env", extra="forbid", frozen=True
    )

    environment: Literal["development", "production"] = Field(
        "development", description="In production, default secrets are refused."
    )
    data_dir: Path = Field(Path("data"), description="Where embedded data (SQLite file) lives.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL; defaults to a SQLite file in the data directory. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db",
    )
    bus_url: str = Field(
        "memory://", description="Event bus: memory:// (in-process) or nats://host:4222"
    )
    mqtt_url: str = Field(
        "", description="MQTT broker for sensors, mqtt://[user:password@]host[:port]; empty: off."
    )
    scenario_path: Path = Field(
        default_factory=bundled_scenario, description="Scenario folder loaded by default."
    )
    host: str = Field("127.0.0.1", description="Address the API server binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port the API server binds to.")
    clock_start: AwareDatetime | None = Field(
        None,
        description="Run the venue's clock from this time instead of the wall clock (a twin "
        "or a training day); empty: the wall clock.",
    )
    clock_speed: float = Field(
        1.0, gt=0, le=3600, description="Venue seconds per wall second when clock_start is set."
    )
    crowd_tick_s: float = Field(
        15.0,
        ge=0,
        le=3600,
        description="Wall seconds between re-judging crowd areas that get no new data (their "
        "silence, levels and samples move on); 0: only when data arrives.",
    )
    position_max_age_s: float = Field(
        60,
        gt=0,
        le=86400,
        description="A unit position older than this (seconds) is stale; dispatch then "
        "assumes the unit is at its home post.",
    )
    osmand_speed_unit: Literal["mps", "kn", "kmh", "mph"] = Field(
        "mps",
        description="Unit of `speed` in OsmAnd query/form reports: mps (OsmAnd), kn (classic "
        "Traccar Client, as Traccar's own `osmand.speed` default), kmh or mph.",
    )
    secret_key: str = Field(
        DEFAULT_SECRET_KEY, min_length=16, description="Signs sessions and tokens."
    )

    session_lifetime_hours: float = Field(
        12, gt=0, le=24 * 30, description="How long a browser login lasts, in hours."
    )
    session_cookie: str = Field(
        "lakeguard_session",
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Name of the cookie that carries the browser session id.",
    )

    community_case_targets_h: dict[str, float] = Field(
        default_factory=dict,
        description="Hours a resident's case of a category may stay open before reminders, "
        'overriding the defaults, e.g. {"dispute": 120} (JSON).',
    )
    community_coverage_target: float = Field(
        0.88, gt=0, le=1, description="Share of the reachable population liaison groups aim at."
    )
    training_overdue_days: int = Field(
        31, ge=1, le=366, description="A guard with no training in this many days is overdue."
    )

    notify_targets: list[TargetConfig] = Field(
        default_factory=list,
        description="Notify targets (JSON list): chat robots (wecom, dingtalk, feishu), signed "
        "webhooks and e-mail; each with a name, its credentials and rate limit (docs/notify.md).",
    )
    notify_targets_file: Path | None = Field(
        None, description="A TOML file of [[targets]] tables, read besides notify_targets."
    )
    notify_station_targets: dict[str, list[str]] = Field(
        default_factory=dict,
        description='Station id → targets told of its alerts, e.g. {"yuemiao": ["yuemiao-wecom"]}.',
    )
    notify_officer_targets: dict[str, str] = Field(
        default_factory=dict,
        description='Officer unit id → the e-mail target told of cases, e.g. {"p-001": "mail-1"}.',
    )

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ValueError(
                "LAKEGUARD_SECRET_KEY is at its development default; "
                "set a random secret before running in production"
            )
        if not self.bus_url.startswith(("memory://", "nats://")):
            raise ValueError(f"bus_url must start with memory:// or nats://, got {self.bus_url!r}")
        if self.clock_start is None and self.clock_speed != 1.0:
            raise ValueError("LAKEGUARD_CLOCK_SPEED needs LAKEGUARD_CLOCK_START")
        return self

    @property
    def effective_database_url(self) -> str:
        """The database URL, defaulting to ``<data_dir>/lakeguard.sqlite3``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'lakeguard.sqlite3').resolve()}"
