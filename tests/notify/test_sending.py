"""Workers: claim and fence, rate limit and digest, quiet hours, the sweep after a crash."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from opsassure.notify import digest, sending, services
from opsassure.notify.models import Destination, Notification, NotificationRule
from tests.conftest import World
from tests.notify import fakes

pytestmark = pytest.mark.django_db
State = Notification.State
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def robot() -> Iterator[fakes.FakeServer]:
    with fakes.serve(fakes.always(200, {"errcode": 0, "errmsg": "ok"})) as fake:
        yield fake


def _queue(destination: Destination, count: int, start: int = 0) -> list[Notification]:
    return [
        services.enqueue(
            channel=destination.kind,
            dedup_key=f"alert-{i}",
            subject=f"Alert {i}",
            body=f"body {i}",
            destination=destination,
            severity="critical" if i == start + 3 else "warning",
        )
        for i in range(start, start + count)
    ]


def test_claim_is_won_once_and_fenced(world: World) -> None:
    row = services.enqueue(
        channel="email", dedup_key="k", subject="s", body="b", address="a@example.cn"
    )
    first = sending.claim(row.pk, T0)
    second = sending.claim(row.pk, T0)
    assert first.outcome == "claimed"
    assert (second.notification, second.outcome) == (None, "")
    assert first.notification is not None
    assert (first.notification.state, first.notification.fence) == (State.SENDING, 1)


def test_bot_rate_limit_holds_then_digests_into_one_summary(
    world: World, robot: fakes.FakeServer
) -> None:
    destination = Destination.objects.create(name="DT", kind="dingtalk", url=robot.url("/send"))
    assert destination.effective_rate_limit == 20
    rows = _queue(destination, 25)
    outcomes = [
        sending.send_one(row.pk, now=T0 + dt.timedelta(seconds=i)) for i, row in enumerate(rows)
    ]
    assert outcomes == [State.SENT] * 20 + [State.HELD] * 5
    assert len(robot.received) == 20
    # The window (60 s after the first sends) is still full: no summary yet.
    assert digest.digest_held(destination.pk, T0 + dt.timedelta(seconds=45)) is None
    # 61 s after the first send, the oldest send left the window: one summary for the five.
    summary = digest.digest_held(destination.pk, T0 + dt.timedelta(seconds=61))
    assert summary is not None
    assert summary.subject == "5 more alerts"
    assert summary.severity == "warning"
    assert summary.body == (
        "**5 more alerts:**\n\n- Alert 20\n- Alert 21\n- Alert 22\n- Alert 23\n- Alert 24\n"
    )
    held = Notification.objects.filter(pk__in=[r.pk for r in rows[20:]])
    assert sorted(held.values_list("state", "digest_id")) == [(State.DIGESTED, summary.pk)] * 5
    assert sending.send_one(summary.pk, now=T0 + dt.timedelta(seconds=61)) == State.SENT
    assert len(robot.received) == 21
    assert robot.received[-1].json["markdown"]["title"] == "5 more alerts"
    # Nothing is left to digest.
    assert digest.digest_held(destination.pk, T0 + dt.timedelta(seconds=120)) is None


def test_a_single_held_message_is_released_not_summarised(
    world: World, robot: fakes.FakeServer
) -> None:
    destination = Destination.objects.create(
        name="WC", kind="wecom", url=robot.url("/send"), rate_limit_per_minute=2
    )
    rows = _queue(destination, 3)
    assert [sending.send_one(r.pk, now=T0) for r in rows] == [State.SENT, State.SENT, State.HELD]
    released = digest.digest_held(destination.pk, T0 + dt.timedelta(seconds=61))
    assert released is not None
    assert released.pk == rows[2].pk
    assert sending.send_one(rows[2].pk, now=T0 + dt.timedelta(seconds=61)) == State.SENT
    assert Notification.objects.filter(state=State.DIGESTED).count() == 0


def test_unlimited_destinations_are_never_held(world: World, robot: fakes.FakeServer) -> None:
    destination = Destination.objects.create(name="Hook", kind="webhook", url=robot.url("/"))
    assert destination.effective_rate_limit == 0
    rows = _queue(destination, 25)
    assert {sending.send_one(r.pk, now=T0) for r in rows} == {State.SENT}


def test_the_sweep_redrives_a_row_stuck_after_a_crash(
    world: World, robot: fakes.FakeServer, settings: Any
) -> None:
    settings.NOTIFY_STUCK_SECONDS = 300
    destination = Destination.objects.create(name="Hook", kind="webhook", url=robot.url("/"))
    row = services.enqueue(
        channel="webhook", dedup_key="k", subject="s", body="b", destination=destination
    )
    crashed = sending.claim(row.pk, T0).notification  # the worker dies before sending
    assert crashed is not None
    # Not stuck long enough yet: the sweep leaves the row alone.
    early = sending.sweep(now=T0 + dt.timedelta(seconds=299))
    assert (early.recovered, early.redriven) == ([], [])
    # The sweep (tasks run eagerly in tests) recovers it and sends it again.
    result = sending.sweep(now=T0 + dt.timedelta(seconds=301))
    assert (result.recovered, result.redriven) == ([row.pk], [row.pk])
    row.refresh_from_db()
    assert (row.state, row.attempts, row.fence) == (State.SENT, 2, 3)
    assert len(robot.received) == 1
    # The crashed worker wakes up: its fence is stale, it records nothing.
    assert sending.record_success(crashed, "late reply", T0) is False
    assert sending.record_failure(crashed, "late", "", retryable=True, now=T0) == ""
    row.refresh_from_db()
    assert (row.state, row.provider_reply) == (
        State.SENT,
        'HTTP 200 {"errcode": 0, "errmsg": "ok"}',
    )


def test_the_sweep_redrives_due_retries_and_skips_fresh_rows(world: World, robot: Any) -> None:
    destination = Destination.objects.create(name="Hook", kind="webhook", url=robot.url("/"))
    due = services.enqueue(
        channel="webhook", dedup_key="a", subject="s", body="b", destination=destination
    )
    later = services.enqueue(
        channel="webhook", dedup_key="b", subject="s", body="b", destination=destination
    )
    Notification.objects.filter(pk=due.pk).update(attempts=1, next_attempt_at=T0)
    Notification.objects.filter(pk=later.pk).update(
        attempts=1, next_attempt_at=T0 + dt.timedelta(hours=1)
    )
    result = sending.sweep(now=T0)
    assert result.redriven == [due.pk]
    assert sending.due_ids(T0 + dt.timedelta(hours=1)) == [later.pk]


def _quiet_user(world: World) -> Any:
    user = world.engineer_a
    user.email = "eng@example.cn"
    user.time_zone = "Asia/Shanghai"
    user.save()
    NotificationRule.objects.create(
        user=user, channels=["email"], quiet_start=dt.time(22, 0), quiet_end=dt.time(7, 0)
    )
    return user


@pytest.mark.parametrize(
    ("local", "severity", "deferred_to_local"),
    [
        (dt.datetime(2026, 3, 1, 23, 30), "warning", dt.datetime(2026, 3, 2, 7, 0)),
        (dt.datetime(2026, 3, 2, 3, 15), "info", dt.datetime(2026, 3, 2, 7, 0)),
        (dt.datetime(2026, 3, 1, 23, 30), "critical", None),
        (dt.datetime(2026, 3, 2, 7, 0), "warning", None),
        (dt.datetime(2026, 3, 2, 21, 59), "high", None),
    ],
)
def test_quiet_hours_defer_non_critical_messages(
    world: World, local: dt.datetime, severity: str, deferred_to_local: dt.datetime | None
) -> None:
    user = _quiet_user(world)
    now = local.replace(tzinfo=SHANGHAI)
    [row] = services.notify_user(
        user, severity=severity, dedup_key="q", template="test", context={}, now=now
    )
    expected = None if deferred_to_local is None else deferred_to_local.replace(tzinfo=SHANGHAI)
    assert row.next_attempt_at == expected
    assert row.state == State.PENDING
    if expected is not None:
        assert sending.send_one(row.pk, now=expected - dt.timedelta(seconds=1)) == ""
        assert sending.send_one(row.pk, now=expected) == State.SENT


def test_quiet_hours_within_one_day_in_another_zone(world: World) -> None:
    user = world.engineer_a
    user.email = "eng@example.cn"
    user.time_zone = "Europe/Berlin"
    user.save()
    NotificationRule.objects.create(
        user=user,
        severities=["info"],
        channels=["email"],
        quiet_start=dt.time(12, 0),
        quiet_end=dt.time(13, 30),
    )
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    now = dt.datetime(2026, 7, 1, 12, 10, tzinfo=berlin)
    [info] = services.notify_user(
        user, severity="info", dedup_key="i", template="test", context={}, now=now
    )
    # No rule covers "warning": the default (e-mail, no quiet hours) applies.
    [warning] = services.notify_user(
        user, severity="warning", dedup_key="w", template="test", context={}, now=now
    )
    assert info.next_attempt_at == dt.datetime(2026, 7, 1, 13, 30, tzinfo=berlin)
    assert warning.next_attempt_at is None


def test_rules_choose_channels_by_severity_in_order(world: World) -> None:
    user = world.engineer_a
    user.email = "eng@example.cn"
    user.phone = "13800000001"
    user.save()
    Destination.objects.create(
        name="SMS", kind="sms", url="http://127.0.0.1:9/", settings={"gateway": {}}
    )
    NotificationRule.objects.create(user=user, order=2, channels=["email"])
    NotificationRule.objects.create(
        user=user, order=1, severities=["critical"], channels=["sms", "voice", "email"]
    )
    critical = services.notify_user(
        user, severity="critical", dedup_key="c", template="test", context={}
    )
    warning = services.notify_user(
        user, severity="warning", dedup_key="w", template="test", context={}
    )
    assert [(r.channel, r.state, r.last_error) for r in critical] == [
        ("sms", State.PENDING, ""),
        ("voice", State.FAILED, "no enabled voice gateway is configured"),
        ("email", State.PENDING, ""),
    ]
    assert [r.channel for r in warning] == ["email"]
    # Same key again: the same rows, nothing new.
    again = services.notify_user(
        user, severity="critical", dedup_key="c", template="test", context={}
    )
    assert [r.pk for r in again] == [r.pk for r in critical]
    assert Notification.objects.count() == 4


@pytest.mark.skipif(
    settings.IS_SQLITE,
    reason="the in-memory SQLite test database has shared-cache table locks that fail instead "
    "of waiting; on a real SQLite file IMMEDIATE transactions serialise the writers. This race "
    "runs on PostgreSQL (CI sets OPSASSURE_TEST_DATABASE_URL).",
)
@pytest.mark.django_db(transaction=True)
def test_racing_workers_claim_each_row_once_and_respect_the_rate_limit(world: World) -> None:
    destination = Destination.objects.create(
        name="DT", kind="dingtalk", url="http://127.0.0.1:9/", rate_limit_per_minute=20
    )
    rows = Notification.objects.bulk_create(  # not enqueue(): nothing may send them meanwhile
        Notification(
            channel="dingtalk", destination=destination, subject=f"A{i}", dedup_key=f"r{i}"
        )
        for i in range(30)
    )
    ids = [row.pk for row in rows]
    now = timezone.now()  # the digest queued on hold looks at the real clock
    barrier = threading.Barrier(4)
    outcomes: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            for pk in ids:
                taken = sending.claim(pk, now)
                if taken.outcome:
                    outcomes.append((pk, taken.outcome))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(outcomes) == len({pk for pk, _ in outcomes}) == 30  # each row decided once
    assert sorted(o for _, o in outcomes) == ["claimed"] * 20 + ["held"] * 10
    states = Notification.objects.filter(pk__in=ids).values_list("state", flat=True)
    assert sorted(states) == [State.HELD] * 10 + [State.SENDING] * 20


def test_rows_of_a_destination_disabled_meanwhile_fail_but_tests_go_out(
    world: World, robot: fakes.FakeServer
) -> None:
    destination = Destination.objects.create(name="Hook", kind="webhook", url=robot.url("/"))
    row = services.enqueue(
        channel="webhook", dedup_key="k", subject="s", body="b", destination=destination
    )
    destination.enabled = False
    destination.save()
    test = services.send_test_message(destination, user=world.manager)
    assert test.state == State.PENDING
    assert sending.send_one(row.pk, now=T0) == State.FAILED
    assert sending.send_one(test.pk, now=T0) == State.SENT
    row.refresh_from_db()
    assert (row.last_error, len(robot.received)) == ("the destination is disabled", 1)
    later = services.notify_destination(
        destination, severity="info", dedup_key="later", template="test", context={}
    )
    assert (later.state, later.last_error) == (State.FAILED, "the destination is disabled")
