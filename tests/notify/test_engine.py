"""Rate limits, grouping into digests and backoff, with an explicit clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lakeguard.notify.engine import (
    Message,
    Notice,
    Pacing,
    Pending,
    batches_due,
    next_send_after,
    retry_delay_s,
)

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
ROBOT = Pacing(per_minute=20, group_wait_s=5, group_max_wait_s=60)
NO_GROUPING = Pacing(per_minute=20, group_wait_s=0, group_max_wait_s=60)


def _simulate(
    arrivals_s: list[float], pacing: Pacing, until_s: float
) -> list[tuple[float, tuple[int, ...]]]:
    """Run the decision once a second (and at each arrival); answer (time, ids) per message."""
    pending: dict[int, Pending] = {}
    sends: list[tuple[float, tuple[int, ...]]] = []
    ticks = sorted(set(arrivals_s) | {float(s) for s in range(int(until_s) + 1)})
    arrivals = list(enumerate(arrivals_s))
    for t in ticks:
        now = T0 + timedelta(seconds=t)
        while arrivals and arrivals[0][1] <= t:
            i, at = arrivals.pop(0)
            pending[i] = Pending(i, T0 + timedelta(seconds=at), retry=False)
        recent = [T0 + timedelta(seconds=s) for s, _ in sends]
        for batch in batches_due(list(pending.values()), recent, pacing, now):
            sends.append((t, batch))
            recent.append(now)
            for i in batch:
                del pending[i]
    assert not pending, "everything is sent in the end"
    return sends


def test_twenty_alerts_in_a_minute_reach_a_robot_as_one_message() -> None:
    sends = _simulate([3.0 * i for i in range(20)], ROBOT, until_s=120)
    assert sends == [(60.0, tuple(range(20)))]


def test_a_lone_alert_waits_only_the_group_wait() -> None:
    assert _simulate([10.0], ROBOT, until_s=60) == [(15.0, (0,))]
    assert _simulate([10.0, 12.0], ROBOT, until_s=60) == [(17.0, (0, 1))]


def test_twenty_five_alerts_in_a_minute_make_twenty_sends_and_one_digest() -> None:
    arrivals = [2.4 * i for i in range(25)]
    sends = _simulate(arrivals, NO_GROUPING, until_s=180)
    times = [t for t, _ in sends]
    for t in times:
        assert sum(1 for u in times if t <= u < t + 60) <= 20
    singles, (digest_at, digest) = sends[:-1], sends[-1]
    assert [b for _, b in singles] == [(i,) for i in range(20)]
    assert digest == (20, 21, 22, 23, 24)
    assert digest_at == 60.0  # when the first send leaves the sliding minute
    assert sorted(i for _, b in sends for i in b) == list(range(25))


def test_more_due_than_the_budget_goes_as_one_digest() -> None:
    pending = [Pending(i, T0, retry=False) for i in range(5)]
    recent = [T0 - timedelta(seconds=s) for s in range(17)]  # 3 left this minute
    assert batches_due(pending, recent, NO_GROUPING, T0) == [(0, 1, 2, 3, 4)]
    assert batches_due(pending[:3], recent, NO_GROUPING, T0) == [(0,), (1,), (2,)]
    full = [T0 - timedelta(seconds=s) for s in range(20)]
    assert batches_due(pending, full, NO_GROUPING, T0) == []
    oldest_in_window = T0 - timedelta(seconds=19)
    assert next_send_after(pending, full, NO_GROUPING, T0) == oldest_in_window + timedelta(
        minutes=1
    )


def test_retries_are_not_held_by_the_group_wait() -> None:
    pending = [Pending(1, T0 - timedelta(minutes=5), retry=True), Pending(2, T0, retry=False)]
    assert batches_due(pending, [], ROBOT, T0) == [(1,)]
    assert next_send_after(pending[1:], [], ROBOT, T0) == T0 + timedelta(seconds=5)


def test_backoff_doubles_to_a_cap_and_honours_retry_after() -> None:
    assert [retry_delay_s(n) for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert retry_delay_s(20) == 900
    assert retry_delay_s(1, retry_after_s=600) == 600


def test_digest_text_and_idempotency_key() -> None:
    a, b = Notice("e1:t", "A", "alpha", "warning"), Notice("e2:t", "B", "", "critical")
    assert Message((a, b)).text() == "LakeGuard digest: 2 notices\n• A: alpha\n• B"
    assert Message((a, b)).severity == "critical"
    assert Message((a, b)).idempotency_key == Message((b, a)).idempotency_key
    assert Message((a,)).idempotency_key != Message((a, b)).idempotency_key
    assert Message((Notice("k", "x" * 3000, ""),)).text(100).endswith("…")
    assert len(Message((Notice("k", "断" * 3000, ""),)).text(100).encode()) <= 100
