"""Each channel against a local server checking the exact payload, headers and signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from typing import Any
from urllib.parse import quote_plus

import httpx
import pytest
from aiosmtpd.controller import Controller

from lakeguard.notify.channels import WeComChannel, channel_for, image_payload, retry_after_s
from lakeguard.notify.engine import Message, Notice, Outcome
from lakeguard.notify.targets import parse_targets
from tests.notify.servers import Recorder, recording_server

NOW = datetime(2024, 5, 1, 8, 0, 0, 250000, tzinfo=UTC)
RED = Notice(
    "e1:t", "Crowd alert RED at 断桥 Broken Bridge", "orange → red; 104% of capacity.", "critical"
)
INFO = Notice("e2:t", "Anti-fraud notice", "Never pay a 'deposit' to book a boat.", "info")


@pytest.fixture
def server() -> Iterator[Recorder]:
    with recording_server() as recorder:
        yield recorder


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


def _send(config: dict[str, Any], message: Message, client: httpx.Client) -> Any:
    (target,) = parse_targets([config])
    return channel_for(target).send(message, client=client, now=NOW)


def test_wecom_text_with_key_in_the_query(server: Recorder, client: httpx.Client) -> None:
    config = {
        "name": "w",
        "type": "wecom",
        "key": "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa",
        "url": f"{server.url}/cgi-bin/webhook/send",
    }
    result = _send(config, Message((RED,)), client)
    assert result.outcome == Outcome.OK
    (seen,) = server.seen
    assert seen.path == "/cgi-bin/webhook/send"
    assert seen.query == {"key": "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"}
    assert seen.headers["Content-Type"].startswith("application/json")
    assert seen.json() == {
        "msgtype": "text",
        "text": {"content": f"{RED.title}\n{RED.body}", "mentioned_list": ["@all"]},
    }
    _send(config, Message((INFO,)), client)
    assert server.seen[1].json() == {
        "msgtype": "text",
        "text": {"content": f"{INFO.title}\n{INFO.body}"},
    }


def test_wecom_content_stays_within_2048_bytes(server: Recorder, client: httpx.Client) -> None:
    config = {"name": "w", "type": "wecom", "key": "k" * 12, "url": f"{server.url}/send"}
    notices = tuple(Notice(f"e{i}:w", f"告警 {i} 断桥", "人" * 60) for i in range(100))
    _send(config, Message(notices), client)
    content = server.seen[0].json()["text"]["content"]
    assert len(content.encode()) <= 2048
    assert content.startswith("LakeGuard digest: 100 notices\n• 告警 0 断桥")
    assert content.endswith("more")


def test_wecom_error_codes(server: Recorder, client: httpx.Client) -> None:
    config = {"name": "w", "type": "wecom", "key": "k" * 12, "url": f"{server.url}/send"}
    server.reply(200, {"errcode": 45009, "errmsg": "api freq out of limit"})
    server.reply(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    busy = _send(config, Message((INFO,)), client)
    refused = _send(config, Message((INFO,)), client)
    assert (busy.outcome, busy.retry_after_s) == (Outcome.RETRY, 60.0)
    assert refused.outcome == Outcome.FAILED and "93000" in refused.detail


def test_wecom_image_payload_carries_base64_and_md5() -> None:
    data = b"\x89PNG fake bytes"
    assert image_payload(data) == {
        "msgtype": "image",
        "image": {"base64": base64.b64encode(data).decode(), "md5": hashlib.md5(data).hexdigest()},
    }


def test_dingtalk_signature_in_the_query(server: Recorder, client: httpx.Client) -> None:
    secret = "SECb3f6f2f5bb8f1a0f6c0d3c8b7e2e4f0d6a5b1c9d8e7f6a5b4c3d2e1f0a9b8c7"
    config = {
        "name": "d",
        "type": "dingtalk",
        "access_token": "tok-1234abcd",
        "secret": secret,
        "url": f"{server.url}/robot/send",
    }
    assert _send(config, Message((RED,)), client).outcome == Outcome.OK
    (seen,) = server.seen
    timestamp = str(int(NOW.timestamp() * 1000))  # milliseconds
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert seen.path == "/robot/send"
    assert seen.query == {"access_token": "tok-1234abcd", "timestamp": timestamp, "sign": expected}
    assert f"sign={quote_plus(expected)}" in seen.raw_query  # URL-encoded once
    assert seen.json() == {
        "msgtype": "text",
        "text": {"content": f"{RED.title}\n{RED.body}"},
        "at": {"atMobiles": [], "isAtAll": True},
    }


def test_dingtalk_without_secret_and_its_error_codes(
    server: Recorder, client: httpx.Client
) -> None:
    config = {
        "name": "d",
        "type": "dingtalk",
        "access_token": "tok-1234abcd",
        "url": f"{server.url}/robot/send",
    }
    server.reply(200, {"errcode": 130101, "errmsg": "send too fast"})
    server.reply(200, {"errcode": 310000, "errmsg": "sign not match"})
    throttled = _send(config, Message((INFO,)), client)
    refused = _send(config, Message((INFO,)), client)
    assert server.seen[0].query == {"access_token": "tok-1234abcd"}
    assert server.seen[0].json()["at"] == {"atMobiles": [], "isAtAll": False}
    assert (throttled.outcome, throttled.retry_after_s) == (Outcome.RETRY, 600.0)
    assert refused.outcome == Outcome.FAILED


def test_feishu_signature_in_the_body(server: Recorder, client: httpx.Client) -> None:
    server.default = (200, {"code": 0, "msg": "success"})
    config = {
        "name": "f",
        "type": "feishu",
        "token": "hook-token-9f8e",
        "secret": "feishu-secret-77",
        "url": f"{server.url}/open-apis/bot/v2/hook",
    }
    assert _send(config, Message((RED, INFO)), client).outcome == Outcome.OK
    (seen,) = server.seen
    assert seen.path == "/open-apis/bot/v2/hook/hook-token-9f8e"
    timestamp = str(int(NOW.timestamp()))  # seconds
    key = f"{timestamp}\nfeishu-secret-77".encode()
    expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert seen.json() == {
        "timestamp": timestamp,
        "sign": expected,
        "msg_type": "post",
        "content": {
            "post": {
                "zh_cn": {
                    "title": "LakeGuard digest: 2 notices",
                    "content": [
                        [{"tag": "text", "text": f"• {RED.title}: {RED.body}"}],
                        [{"tag": "text", "text": f"• {INFO.title}: {INFO.body}"}],
                    ],
                }
            }
        },
    }


def test_feishu_error_codes(server: Recorder, client: httpx.Client) -> None:
    config = {
        "name": "f",
        "type": "feishu",
        "token": "hook-token-9f8e",
        "url": f"{server.url}/hook",
    }
    server.reply(200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"})
    server.reply(200, {"code": 9499, "msg": "too many request"})
    assert _send(config, Message((INFO,)), client).outcome == Outcome.FAILED
    assert _send(config, Message((INFO,)), client).outcome == Outcome.RETRY
    assert "timestamp" not in server.seen[0].json()


def test_webhook_hmac_sha256_over_timestamp_and_body(
    server: Recorder, client: httpx.Client
) -> None:
    config = {
        "name": "h",
        "type": "webhook",
        "url": f"{server.url}/hooks/lakeguard",
        "secret": "whsec-0123456789",
    }
    assert _send(config, Message((RED, INFO)), client).outcome == Outcome.OK
    (seen,) = server.seen
    timestamp = seen.headers["X-LakeGuard-Timestamp"]
    assert timestamp == str(int(NOW.timestamp()))
    mac = hmac.new(b"whsec-0123456789", f"{timestamp}.".encode() + seen.body, hashlib.sha256)
    assert seen.headers["X-LakeGuard-Signature"] == "sha256=" + mac.hexdigest()
    body = seen.json()
    assert seen.headers["Idempotency-Key"] == body["id"]
    assert body["digest"] is True and body["severity"] == "critical"
    assert [n["key"] for n in body["notices"]] == ["e1:t", "e2:t"]


def test_webhook_refuses_plain_http_elsewhere() -> None:
    with pytest.raises(ValueError, match="https"):
        parse_targets(
            [{"name": "h", "type": "webhook", "url": "http://example.org/x", "secret": "s"}]
        )


@pytest.mark.parametrize(
    ("status", "headers", "outcome", "after"),
    [
        (500, {}, Outcome.RETRY, None),
        (503, {"Retry-After": "30"}, Outcome.RETRY, 30.0),
        (429, {"Retry-After": "120"}, Outcome.RETRY, 120.0),
        (404, {}, Outcome.FAILED, None),
    ],
)
def test_http_status_rules(
    server: Recorder,
    client: httpx.Client,
    status: int,
    headers: dict[str, str],
    outcome: Outcome,
    after: float | None,
) -> None:
    server.reply(status, {}, headers)
    config = {
        "name": "h",
        "type": "webhook",
        "url": f"{server.url}/x",
        "secret": "whsec-0123456789",
    }
    result = _send(config, Message((INFO,)), client)
    assert (result.outcome, result.status_code, result.retry_after_s) == (outcome, status, after)


def test_unreachable_service_is_retried(client: httpx.Client) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = {
        "name": "w",
        "type": "wecom",
        "key": "secret-key-abcd",
        "url": f"http://127.0.0.1:{port}/send",
    }
    result = _send(config, Message((INFO,)), client)
    assert result.outcome == Outcome.RETRY
    assert "secret-key-abcd" not in result.detail


def test_retry_after_as_http_date() -> None:
    assert retry_after_s("Wed, 01 May 2024 08:01:00 GMT", NOW.replace(microsecond=0)) == 60.0
    assert retry_after_s("soon", NOW) is None


class Sink:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_sink() -> Iterator[tuple[Sink, int]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def test_email_over_smtp(smtp_sink: tuple[Sink, int], client: httpx.Client) -> None:
    sink, port = smtp_sink
    config = {
        "name": "m",
        "type": "email",
        "host": "127.0.0.1",
        "port": port,
        "starttls": False,
        "sender": "lakeguard@example.org",
        "to": ["officer.wang@example.org"],
    }
    message = Message((INFO,))
    assert _send(config, message, client).outcome == Outcome.OK
    (envelope,) = sink.envelopes
    assert envelope.mail_from == "lakeguard@example.org"
    assert envelope.rcpt_tos == ["officer.wang@example.org"]
    mail = message_from_bytes(envelope.content)
    assert mail["Subject"] == INFO.title
    assert mail["Message-ID"] == f"<{message.idempotency_key}@lakeguard>"
    assert INFO.body in mail.get_payload(decode=True).decode()


def test_email_to_a_closed_port_is_retried(client: httpx.Client) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = {
        "name": "m",
        "type": "email",
        "host": "127.0.0.1",
        "port": port,
        "starttls": False,
        "sender": "a@b.c",
        "to": ["d@e.f"],
        "password": "smtp-pass-9999",
        "username": "u",
    }
    result = _send(config, Message((INFO,)), client)
    assert result.outcome == Outcome.RETRY


def test_listing_shows_last_four_only() -> None:
    (target,) = parse_targets(
        [{"name": "w", "type": "wecom", "key": "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"}]
    )
    shown = target.listing()
    assert shown["key"] == "…5aaa"
    assert "693a91f6" not in json.dumps(shown, ensure_ascii=False)
    assert "693a91f6" not in repr(target)
    assert isinstance(channel_for(target), WeComChannel)
