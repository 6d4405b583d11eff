"""Planning deliveries from the outbox and sending them: the database side of notify/.

A delivery is sent at most once from the worker's point of view: it is claimed (status
``sending``) in one transaction, sent, and marked sent in the same transaction that records
the service's reply. A worker that dies between the two leaves the claim; it is released
after :data:`CLAIM_LEASE` (at least once, across a crash).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from lakeguard.community.models import CommunityRow, LiaisonGroupRow
from lakeguard.events import Event, event_from_payload
from lakeguard.notify.channels import Channel
from lakeguard.notify.engine import (
    RATE_WINDOW,
    SEVERITIES,
    Message,
    Notice,
    Outcome,
    Pacing,
    Pending,
    SendResult,
    Severity,
    batches_due,
    retry_delay_s,
)
from lakeguard.notify.models import (
    WAITING,
    DeliveryRow,
    DeliveryStatus,
    NotifyCursorRow,
    NotifyMessageRow,
)
from lakeguard.notify.rules import AreaInfo, Directory, RuleParams, StationMap, plan_event
from lakeguard.notify.targets import TargetConfig
from lakeguard.store.outbox import OutboxRow, events_since
from lakeguard.store.session import transaction
from lakeguard.venue.geometry import LocalProjection
from lakeguard.venue.loader import Scenario

log = logging.getLogger(__name__)
CURSOR = "notify"
CLAIM_LEASE = timedelta(minutes=5)


# -- the directory ----------------------------------------------------------------------------


def venue_directory(
    scenario: Scenario | None,
    *,
    station_targets: Mapping[str, Sequence[str]],
    officer_targets: Mapping[str, str],
) -> Directory:
    """What settings and the venue say: areas, station grounds, configured targets."""
    stations = {s: tuple(t) for s, t in station_targets.items()}
    if scenario is None:
        return Directory(station_targets=stations, officer_targets=dict(officer_targets))
    areas = {
        a.id: AreaInfo(f"{a.name.zh} {a.name.en}", a.kind.value, a.station) for a in scenario.areas
    }
    lon0 = sum(s.location[0] for s in scenario.stations) / len(scenario.stations)
    lat0 = sum(s.location[1] for s in scenario.stations) / len(scenario.stations)
    locations = {s.id: (float(s.location[0]), float(s.location[1])) for s in scenario.stations}
    grounds = StationMap(locations, LocalProjection(lon0, lat0))
    return Directory(areas, stations, dict(officer_targets), grounds)


def with_liaison_groups(session: Session, base: Directory) -> Directory:
    """The directory with each station's liaison groups' targets added to its own."""
    by_station: dict[str, list[str]] = {s: list(t) for s, t in base.station_targets.items()}
    groups = session.execute(
        select(CommunityRow.station_id, LiaisonGroupRow.notify_target)
        .join(CommunityRow, LiaisonGroupRow.community_id == CommunityRow.id)
        .where(LiaisonGroupRow.notify_target.is_not(None))
        .order_by(LiaisonGroupRow.id)
    ).all()
    for station_id, target in groups:
        if target:
            by_station.setdefault(station_id, []).append(target)
    merged = {s: tuple(dict.fromkeys(t)) for s, t in by_station.items()}
    return replace(base, station_targets=merged)


# -- planning ---------------------------------------------------------------------------------


def ensure_cursor(session: Session, *, now: datetime) -> NotifyCursorRow:
    """The worker's cursor; a new one starts after the newest event, so history is not sent."""
    cursor = session.get(NotifyCursorRow, CURSOR)
    if cursor is None:
        newest = session.scalar(select(func.max(OutboxRow.id))) or 0
        cursor = NotifyCursorRow(name=CURSOR, after_id=newest, updated_at=now)
        session.add(cursor)
        session.flush()
    return cursor


def add_deliveries(
    session: Session,
    event: Event,
    sends: Iterable[tuple[str, Notice]],
    *,
    known_targets: Iterable[str],
    now: datetime,
) -> list[DeliveryRow]:
    """One delivery per (event, target), unless its key exists already; unknown targets skip."""
    known = set(known_targets)
    wanted: dict[str, tuple[str, Notice]] = {}
    for target, notice in sends:
        if target not in known:
            log.warning(
                "notify: event %s names target %r, which is not configured", event.event_id, target
            )
            continue
        wanted[notice.key] = (target, notice)
    if not wanted:
        return []
    existing = set(session.scalars(select(DeliveryRow.key).where(DeliveryRow.key.in_(wanted))))
    added = [
        DeliveryRow(
            key=key,
            event_id=str(event.event_id),
            topic=event.topic,
            target=target,
            title=notice.title[:300],
            body=notice.body,
            severity=notice.severity,
            status=DeliveryStatus.PENDING,
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
        for key, (target, notice) in wanted.items()
        if key not in existing
    ]
    session.add_all(added)
    session.flush()
    return added


@dataclass(frozen=True)
class PlanReport:
    events: int
    deliveries: int


def plan_new_events(
    session: Session,
    directory: Directory,
    *,
    known_targets: Iterable[str],
    now: datetime,
    params: RuleParams | None = None,
    batch: int = 500,
) -> PlanReport:
    """Read the outbox after the cursor, apply the rules, add deliveries, move the cursor."""
    known = tuple(known_targets)
    cursor = ensure_cursor(session, now=now)
    session.refresh(cursor, with_for_update=True)
    rows = events_since(session, cursor.after_id, limit=batch)
    added = 0
    for row in rows:
        try:
            event = event_from_payload(row.topic, row.payload)
        except (KeyError, ValueError):
            log.warning("notify: outbox row %s (%s) cannot be read; skipped", row.id, row.topic)
            continue
        plan = plan_event(event, directory, params)
        for reason in plan.skipped:
            log.info("notify: event %s told nobody: %s", event.event_id, reason)
        added += len(add_deliveries(session, event, plan.sends, known_targets=known, now=now))
    if rows:
        cursor.after_id = rows[-1].id
        cursor.updated_at = now
    return PlanReport(len(rows), added)


# -- sending ----------------------------------------------------------------------------------


def release_stale_claims(session: Session, *, now: datetime) -> int:
    """Claims older than the lease (a worker died mid-send) go back to waiting."""
    result = session.execute(
        update(DeliveryRow)
        .where(
            DeliveryRow.status == DeliveryStatus.SENDING, DeliveryRow.claimed_at < now - CLAIM_LEASE
        )
        .values(status=DeliveryStatus.RETRYING, next_attempt_at=now, claimed_at=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _pacing(target: TargetConfig) -> Pacing:
    return Pacing(target.per_minute, target.group_wait_s, target.group_max_wait_s)


def due_batches(session: Session, target: TargetConfig, *, now: datetime) -> list[tuple[int, ...]]:
    """The messages a target should send now, as tuples of delivery ids."""
    waiting = session.execute(
        select(DeliveryRow.id, DeliveryRow.created_at, DeliveryRow.attempts)
        .where(
            DeliveryRow.target == target.name,
            DeliveryRow.status.in_(WAITING),
            DeliveryRow.next_attempt_at <= now,
        )
        .order_by(DeliveryRow.id)
    ).all()
    recent = session.scalars(
        select(NotifyMessageRow.started_at).where(
            NotifyMessageRow.target == target.name,
            NotifyMessageRow.started_at > now - RATE_WINDOW,
        )
    ).all()
    pending = [Pending(i, created, attempts > 0) for i, created, attempts in waiting]
    return batches_due(pending, recent, _pacing(target), now)


def _claim(session: Session, ids: tuple[int, ...], *, now: datetime) -> list[DeliveryRow] | None:
    """Mark deliveries as being sent and commit; None when another worker got to one first."""
    result = session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id.in_(ids), DeliveryRow.status.in_(WAITING))
        .values(status=DeliveryStatus.SENDING, claimed_at=now)
    )
    if int(getattr(result, "rowcount", 0) or 0) != len(ids):
        session.rollback()
        return None
    claimed = select(DeliveryRow).where(DeliveryRow.id.in_(ids)).order_by(DeliveryRow.id)
    rows = list(session.scalars(claimed))
    session.commit()
    return rows


def _notice(delivery: DeliveryRow) -> Notice:
    severity: Severity = next((s for s in SEVERITIES if s == delivery.severity), "info")
    return Notice(delivery.key, delivery.title, delivery.body, severity)


def _record(
    session: Session,
    ids: tuple[int, ...],
    target: TargetConfig,
    message: Message,
    result: SendResult,
    *,
    started: datetime,
    now: datetime,
) -> None:
    """The reply and what it means for each delivery, in one transaction."""
    row = NotifyMessageRow(
        target=target.name,
        started_at=started,
        finished_at=now,
        outcome=result.outcome.value,
        status_code=result.status_code,
        detail=result.detail[:500],
        notices=len(ids),
        idempotency_key=message.idempotency_key,
    )
    session.add(row)
    session.flush()
    for delivery in session.scalars(select(DeliveryRow).where(DeliveryRow.id.in_(ids))):
        delivery.claimed_at = None
        delivery.attempts += 1
        delivery.message_id = row.id
        if result.outcome == Outcome.OK:
            delivery.status, delivery.sent_at, delivery.last_error = DeliveryStatus.SENT, now, ""
            continue
        delivery.last_error = result.detail[:500]
        if result.outcome == Outcome.FAILED or delivery.attempts >= target.max_attempts:
            delivery.status = DeliveryStatus.DEAD
            log.warning(
                "notify: delivery %s to %s is dead: %s", delivery.key, target.name, result.detail
            )
        else:
            delivery.status = DeliveryStatus.RETRYING
            delay = retry_delay_s(delivery.attempts, result.retry_after_s)
            delivery.next_attempt_at = now + timedelta(seconds=delay)


def send_due(
    sessions: sessionmaker[Session],
    channels: Iterable[Channel],
    client: httpx.Client,
    *,
    now: datetime,
) -> int:
    """Send every message that is due, target by target; returns how many were sent."""
    sent = 0
    for channel in channels:
        with sessions() as session:
            batches = due_batches(session, channel.target, now=now)
        for ids in batches:
            with sessions() as session:
                claimed = _claim(session, ids, now=now)
            if claimed is None:
                continue
            message = Message(tuple(_notice(d) for d in claimed))
            result = channel.send(message, client=client, now=now)
            with transaction(sessions) as session:
                _record(session, ids, channel.target, message, result, started=now, now=now)
            if result.outcome == Outcome.OK:
                sent += 1
    return sent


def list_deliveries(
    session: Session, *, status: str | None = None, target: str | None = None, limit: int = 100
) -> list[DeliveryRow]:
    query = select(DeliveryRow).order_by(DeliveryRow.id.desc()).limit(limit)
    if status:
        query = query.where(DeliveryRow.status == status)
    if target:
        query = query.where(DeliveryRow.target == target)
    return list(session.scalars(query))
