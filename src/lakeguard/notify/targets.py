"""Notify targets as configured: one model per channel kind, told apart by ``type``.

A target's key, token, secret or password is a credential: it is held as ``SecretStr`` (so
settings never print it), never logged, and shown only as its last four characters.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, TypeAdapter

CHINESE_ROBOT_PER_MINUTE = 20
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def masked(secret: SecretStr | None) -> str | None:
    """A secret as listings show it: its last four characters only."""
    if secret is None:
        return None
    value = secret.get_secret_value()
    return "…" + value[-4:] if len(value) > 4 else "…"


def _https_or_local(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS):
        return url
    raise ValueError("must be an https:// URL (plain http only to this machine)")


HttpsUrl = Annotated[str, AfterValidator(_https_or_local)]


class TargetBase(BaseModel):
    """What every target has: a name rules and groups refer to, and its sending limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", description="e.g. yuemiao-wecom")
    per_minute: int = Field(
        CHINESE_ROBOT_PER_MINUTE, ge=1, le=600, description="messages per sliding minute"
    )
    group_wait_s: float = Field(
        5,
        ge=0,
        le=300,
        description="hold a new notice this long for others to join it; every new one restarts "
        "the wait (0: send each at once while the rate allows)",
    )
    group_max_wait_s: float = Field(
        60, ge=0, le=600, description="never hold the oldest notice longer than this"
    )
    max_attempts: int = Field(6, ge=1, le=20, description="attempts before the dead-letter list")

    def secrets(self) -> tuple[str, ...]:
        """Every credential of this target, for redacting logs."""
        return tuple(
            value.get_secret_value()
            for value in self.__dict__.values()
            if isinstance(value, SecretStr) and value.get_secret_value()
        )

    def listing(self) -> dict[str, Any]:
        """The target as API and CLI listings show it: secrets as their last four characters."""
        shown: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            shown[key] = masked(value) if isinstance(value, SecretStr) else value
        return shown


class WeComTarget(TargetBase):
    type: Literal["wecom"]
    key: SecretStr = Field(description="the robot's webhook key (the credential)")
    url: HttpsUrl = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
    mention_all_when_critical: bool = True


class DingTalkTarget(TargetBase):
    type: Literal["dingtalk"]
    access_token: SecretStr
    secret: SecretStr | None = Field(None, description="the SEC… signing secret, if set")
    url: HttpsUrl = "https://oapi.dingtalk.com/robot/send"
    at_all_when_critical: bool = True


class FeishuTarget(TargetBase):
    type: Literal["feishu"]
    token: SecretStr = Field(description="the last part of the bot's hook URL")
    secret: SecretStr | None = Field(None, description="the signing secret, if set")
    url: HttpsUrl = "https://open.feishu.cn/open-apis/bot/v2/hook"


class WebhookTarget(TargetBase):
    type: Literal["webhook"]
    url: HttpsUrl
    secret: SecretStr = Field(description="HMAC-SHA256 key for X-LakeGuard-Signature")
    per_minute: int = Field(60, ge=1, le=600)
    group_wait_s: float = Field(0, ge=0, le=300)


class EmailTarget(TargetBase):
    type: Literal["email"]
    host: str
    port: int = Field(587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    to: tuple[str, ...] = Field(min_length=1)
    per_minute: int = Field(30, ge=1, le=600)
    group_wait_s: float = Field(0, ge=0, le=300)


TargetConfig = Annotated[
    WeComTarget | DingTalkTarget | FeishuTarget | WebhookTarget | EmailTarget,
    Field(discriminator="type"),
]
_targets = TypeAdapter(list[TargetConfig])


def parse_targets(raw: list[Any]) -> list[TargetConfig]:
    return _targets.validate_python(raw)


def read_targets_file(path: Path) -> list[TargetConfig]:
    """Targets from a TOML file of ``[[targets]]`` tables."""
    with path.open("rb") as handle:
        return parse_targets(tomllib.load(handle).get("targets", []))


def targets_by_name(
    configured: list[TargetConfig], file: Path | None = None
) -> dict[str, TargetConfig]:
    """Every configured target by name; a name given twice is refused."""
    found = list(configured) + (read_targets_file(file) if file else [])
    by_name: dict[str, TargetConfig] = {}
    for target in found:
        if target.name in by_name:
            raise ValueError(f"notify target {target.name!r} is configured twice")
        by_name[target.name] = target
    return by_name
