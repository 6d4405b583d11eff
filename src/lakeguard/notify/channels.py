"""Channels: render a message to what a service expects, send it, and say how it went.

One small ABC and one class per kind of target, registered in :data:`CHANNELS`. Formats and
signatures follow the services' documentation (docs/notify.md). A channel never logs, and
everything it reports is passed through :func:`redact` with its target's secrets.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import smtplib
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import quote_plus

import httpx

from lakeguard.notify.engine import Message, Outcome, SendResult
from lakeguard.notify.targets import (
    DingTalkTarget,
    EmailTarget,
    FeishuTarget,
    TargetConfig,
    WebhookTarget,
    WeComTarget,
)

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
WECOM_TEXT_LIMIT = 2048  # bytes of content
TEXT_LIMIT = 4000  # what we allow ourselves on DingTalk and Feishu


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "…" + secret[-4:] if len(secret) > 4 else "…")
    return text


class RedactSecrets(logging.Filter):
    """Rewrites records that would show a secret (httpx logs every URL it requests)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        clean = redact(text, self.secrets)
        if clean != text:
            record.msg, record.args = clean, ()
        return True


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from now."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max((parsedate_to_datetime(value) - now).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


class Channel(ABC):
    """Sends messages to one configured target."""

    kind: ClassVar[str]

    def __init__(self, target: TargetConfig) -> None:
        self.target = target

    @abstractmethod
    def send(self, message: Message, *, client: httpx.Client, now: datetime) -> SendResult:
        """Send one message; report ok, retry (with Retry-After when known) or failed."""


@dataclass(frozen=True)
class HttpRequest:
    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class HttpChannel(Channel):
    """A channel that POSTs JSON: the HTTP status rules shared by every web service."""

    @abstractmethod
    def request(self, message: Message, now: datetime) -> HttpRequest:
        """The request that carries ``message`` (URL, body, headers), signed for ``now``."""

    def reply(self, body: dict[str, Any]) -> SendResult:
        """What a 2xx reply's JSON says; services that answer errors in a 200 override this."""
        return SendResult(Outcome.OK, status_code=200)

    def send(self, message: Message, *, client: httpx.Client, now: datetime) -> SendResult:
        req = self.request(message, now)
        headers = {"Content-Type": "application/json; charset=utf-8", **req.headers}
        try:
            response = client.post(req.url, content=req.body, headers=headers, timeout=TIMEOUT)
        except httpx.HTTPError as exc:
            return SendResult(Outcome.RETRY, redact(f"{type(exc).__name__}: {exc}", self._secrets))
        code = response.status_code
        if code == 429 or code >= 500:
            after = retry_after_s(response.headers.get("Retry-After"), now)
            return SendResult(Outcome.RETRY, f"HTTP {code}", code, after)
        if code >= 300:
            return SendResult(Outcome.FAILED, f"HTTP {code}: {response.text[:200]}", code)
        try:
            body = response.json()
        except ValueError:
            body = {}
        result = self.reply(body if isinstance(body, dict) else {})
        return SendResult(
            result.outcome,
            redact(result.detail, self._secrets),
            code,
            result.retry_after_s,
        )

    @property
    def _secrets(self) -> tuple[str, ...]:
        return self.target.secrets()


class WeComChannel(HttpChannel):
    kind = "wecom"
    target: WeComTarget

    def request(self, message: Message, now: datetime) -> HttpRequest:
        text: dict[str, Any] = {"content": message.text(WECOM_TEXT_LIMIT)}
        if message.severity == "critical" and self.target.mention_all_when_critical:
            text["mentioned_list"] = ["@all"]
        key = quote_plus(self.target.key.get_secret_value())
        return HttpRequest(f"{self.target.url}?key={key}", _json({"msgtype": "text", "text": text}))

    def reply(self, body: dict[str, Any]) -> SendResult:
        code = body.get("errcode")
        if code == 0:
            return SendResult(Outcome.OK)
        detail = f"errcode {code}: {body.get('errmsg', '')}"
        if code in (-1, 45009):  # system busy; over the robot's rate
            return SendResult(Outcome.RETRY, detail, retry_after_s=60.0)
        return SendResult(Outcome.FAILED, detail)


def image_payload(data: bytes) -> dict[str, Any]:
    """A WeCom image message: base64 of the bytes and the MD5 of the raw bytes."""
    return {
        "msgtype": "image",
        "image": {
            "base64": base64.b64encode(data).decode(),
            "md5": hashlib.md5(data, usedforsecurity=False).hexdigest(),
        },
    }


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """URL-encoded base64 HMAC-SHA256 (key: the secret) of ``"{timestamp}\\n{secret}"``."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return quote_plus(base64.b64encode(digest).decode())


class DingTalkChannel(HttpChannel):
    kind = "dingtalk"
    target: DingTalkTarget
    THROTTLED_S = 600.0  # 130101: the robot is blocked for ten minutes

    def request(self, message: Message, now: datetime) -> HttpRequest:
        token = quote_plus(self.target.access_token.get_secret_value())
        url = f"{self.target.url}?access_token={token}"
        if self.target.secret is not None:
            stamp = int(now.timestamp() * 1000)
            sign = dingtalk_sign(stamp, self.target.secret.get_secret_value())
            url += f"&timestamp={stamp}&sign={sign}"
        at_all = message.severity == "critical" and self.target.at_all_when_critical
        payload = {
            "msgtype": "text",
            "text": {"content": message.text(TEXT_LIMIT)},
            "at": {"atMobiles": [], "isAtAll": at_all},
        }
        return HttpRequest(url, _json(payload))

    def reply(self, body: dict[str, Any]) -> SendResult:
        code = body.get("errcode")
        if code == 0:
            return SendResult(Outcome.OK)
        detail = f"errcode {code}: {body.get('errmsg', '')}"
        if code == 130101:
            return SendResult(Outcome.RETRY, detail, retry_after_s=self.THROTTLED_S)
        return SendResult(Outcome.FAILED, detail)  # 310000: keyword, signature or IP refused


def feishu_sign(timestamp_s: int, secret: str) -> str:
    """Base64 HMAC-SHA256 whose key is ``"{timestamp}\\n{secret}"`` over an empty message."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


class FeishuChannel(HttpChannel):
    kind = "feishu"
    target: FeishuTarget
    RATE_LIMITED = (9499, 11232)

    def request(self, message: Message, now: datetime) -> HttpRequest:
        lines = message.text(TEXT_LIMIT).split("\n")[1:] or [""]
        payload: dict[str, Any] = {}
        if self.target.secret is not None:
            stamp = int(now.timestamp())
            payload["timestamp"] = str(stamp)
            payload["sign"] = feishu_sign(stamp, self.target.secret.get_secret_value())
        payload["msg_type"] = "post"
        payload["content"] = {
            "post": {
                "zh_cn": {
                    "title": message.title,
                    "content": [[{"tag": "text", "text": line}] for line in lines],
                }
            }
        }
        token = quote_plus(self.target.token.get_secret_value())
        return HttpRequest(f"{self.target.url}/{token}", _json(payload))

    def reply(self, body: dict[str, Any]) -> SendResult:
        code = body.get("code", body.get("StatusCode"))
        if code == 0:
            return SendResult(Outcome.OK)
        detail = f"code {code}: {body.get('msg', '')}"
        if code in self.RATE_LIMITED:
            return SendResult(Outcome.RETRY, detail, retry_after_s=60.0)
        return SendResult(Outcome.FAILED, detail)


def webhook_signature(secret: str, timestamp_s: int, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 (key: the secret) of ``"{timestamp}." + body``."""
    mac = hmac.new(secret.encode(), f"{timestamp_s}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookChannel(HttpChannel):
    kind = "webhook"
    target: WebhookTarget

    def request(self, message: Message, now: datetime) -> HttpRequest:
        stamp = int(now.timestamp())
        body = _json(
            {
                "type": "lakeguard.notice",
                "id": message.idempotency_key,
                "sent_at": now.astimezone(UTC).isoformat(),
                "title": message.title,
                "severity": message.severity,
                "digest": message.digest,
                "notices": [
                    {"key": n.key, "title": n.title, "body": n.body, "severity": n.severity}
                    for n in message.notices
                ],
            }
        )
        headers = {
            "X-LakeGuard-Timestamp": str(stamp),
            "X-LakeGuard-Signature": webhook_signature(
                self.target.secret.get_secret_value(), stamp, body
            ),
            "Idempotency-Key": message.idempotency_key,
        }
        return HttpRequest(self.target.url, body, headers)


class EmailChannel(Channel):
    kind = "email"
    target: EmailTarget

    def email(self, message: Message, now: datetime) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = self.target.sender
        mail["To"] = ", ".join(self.target.to)
        mail["Date"] = format_datetime(now.astimezone(UTC))
        # The same notices always carry the same Message-ID, so a mail system drops a repeat.
        mail["Message-ID"] = f"<{message.idempotency_key}@lakeguard>"
        mail.set_content(message.text())
        return mail

    def send(self, message: Message, *, client: httpx.Client, now: datetime) -> SendResult:
        target = self.target
        try:
            with smtplib.SMTP(target.host, target.port, timeout=TIMEOUT.read or 10) as smtp:
                if target.starttls:
                    smtp.starttls()
                if target.username and target.password is not None:
                    smtp.login(target.username, target.password.get_secret_value())
                smtp.send_message(self.email(message, now))
        except smtplib.SMTPResponseException as exc:
            outcome = Outcome.RETRY if 400 <= exc.smtp_code < 500 else Outcome.FAILED
            detail = redact(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", target.secrets())
            return SendResult(outcome, detail, exc.smtp_code)
        except (smtplib.SMTPException, OSError) as exc:
            return SendResult(
                Outcome.RETRY, redact(f"{type(exc).__name__}: {exc}", target.secrets())
            )
        return SendResult(Outcome.OK, status_code=250)


CHANNELS: dict[str, type[Channel]] = {
    channel.kind: channel
    for channel in (WeComChannel, DingTalkChannel, FeishuChannel, WebhookChannel, EmailChannel)
}


def channel_for(target: TargetConfig) -> Channel:
    return CHANNELS[target.type](target)
