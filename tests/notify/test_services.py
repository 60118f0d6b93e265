"""The outbox services: enqueue, notify_user, notify_destination, for_source (e-mail)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail

from opsassure.notify import services
from opsassure.notify.models import Destination, Notification, NotificationRule
from tests.conftest import World

pytestmark = pytest.mark.django_db
State = Notification.State


def test_enqueue_writes_one_row_and_sends_it_after_commit(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        row = services.enqueue(
            channel="email",
            dedup_key="k1",
            subject="Disk full",
            body="/var is at 99 %",
            address="ops@example.cn",
            customer=world.customer_a,
            severity="high",
            source=world.customer_a,
        )
    assert len(callbacks) == 1
    row.refresh_from_db()
    assert row.state == State.SENT
    assert row.attempts == 1
    assert row.customer_id == world.customer_a.pk
    assert (row.source_type, row.source_id) == ("core.customer", str(world.customer_a.pk))
    assert row.provider_reply == "accepted by the mail server (1 message)"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@example.cn"]
    assert mail.outbox[0].subject == "Disk full"
    assert mail.outbox[0].body == "/var is at 99 %"


def test_enqueue_is_idempotent_on_the_dedup_key(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = services.enqueue(
            channel="email", dedup_key="same", subject="one", body="b", address="a@example.cn"
        )
        second = services.enqueue(
            channel="email", dedup_key="same", subject="two", body="c", address="z@example.cn"
        )
    assert second.pk == first.pk
    assert second.subject == "one"
    assert len(callbacks) == 1
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("channel", "pigeon", "unknown notification channel 'pigeon'"),
        ("severity", "apocalyptic", "unknown severity 'apocalyptic'"),
        ("dedup_key", "", "dedup_key must have 1 to 255 characters"),
        ("dedup_key", "x" * 256, "dedup_key must have 1 to 255 characters"),
    ],
)
def test_enqueue_refuses_bad_arguments_and_writes_nothing(
    world: World, field: str, value: str, message: str
) -> None:
    arguments: dict[str, Any] = {
        "channel": "email",
        "dedup_key": "k",
        "subject": "s",
        "body": "b",
        "address": "a@example.cn",
        "severity": "info",
    }
    arguments[field] = value
    with pytest.raises(ValueError, match=message):
        services.enqueue(**arguments)
    assert Notification.objects.count() == 0


def test_notify_user_defaults_to_email_in_the_users_language(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    user = world.engineer_a
    user.email = "eng@example.cn"
    user.language = "zh-hans"
    user.save()
    with django_capture_on_commit_callbacks(execute=True):
        rows = services.notify_user(
            user,
            severity="warning",
            dedup_key="esc:1:0:0:1",
            template="test",
            context={"destination": "X"},
            source=world.customer_a,
        )
    assert [(r.channel, r.dedup_key, r.address, r.language) for r in rows] == [
        ("email", "esc:1:0:0:1:email", "eng@example.cn", "zh-hans")
    ]
    rows[0].refresh_from_db()
    assert rows[0].state == State.SENT
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["eng@example.cn"]


def test_notify_user_without_an_address_records_why(world: World) -> None:
    user = world.engineer_a
    NotificationRule.objects.create(user=user, channels=["email", "sms"])
    rows = services.notify_user(
        user, severity="critical", dedup_key="d", template="test", context={}
    )
    assert [(r.channel, r.state, r.last_error) for r in rows] == [
        ("email", State.FAILED, "the user has no e-mail address"),
        ("sms", State.FAILED, "the user has no mobile phone number"),
    ]


def test_notify_destination_and_for_source(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    destination = Destination.objects.create(
        name="Ops list", kind="email", url="ops@example.cn", customer=world.customer_a
    )
    with django_capture_on_commit_callbacks(execute=True):
        row = services.notify_destination(
            destination,
            severity="info",
            dedup_key="dest-1",
            template="test",
            context={"destination": destination},
            source=world.customer_a,
        )
        again = services.notify_destination(
            destination, severity="info", dedup_key="dest-1", template="test", context={}
        )
    assert again.pk == row.pk
    assert row.customer_id == world.customer_a.pk
    assert list(services.for_source(world.customer_a)) == [row]
    assert list(services.for_source(world.customer_b)) == []
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "OpsAssure test message: Ops list"
    assert mail.outbox[0].to == ["ops@example.cn"]


def test_failed_send_backs_off_then_gives_up(world: World, settings: Any) -> None:
    from opsassure.notify import sending

    settings.EMAIL_BACKEND = "tests.notify.backends.RefusingBackend"
    settings.NOTIFY_MAX_ATTEMPTS = 3
    settings.NOTIFY_BACKOFF_SECONDS = 30
    row = services.enqueue(
        channel="email", dedup_key="k", subject="s", body="b", address="a@example.cn"
    )
    t0 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
    assert sending.send_one(row.pk, now=t0) == State.PENDING
    row.refresh_from_db()
    assert (row.attempts, row.next_attempt_at) == (1, t0 + dt.timedelta(seconds=30))
    assert row.last_error == "SMTPServerDisconnected: refused by the test backend"
    # Not due yet: nothing happens.
    assert sending.send_one(row.pk, now=t0 + dt.timedelta(seconds=29)) == ""
    t1 = t0 + dt.timedelta(seconds=30)
    assert sending.send_one(row.pk, now=t1) == State.PENDING
    row.refresh_from_db()
    assert (row.attempts, row.next_attempt_at) == (2, t1 + dt.timedelta(seconds=60))
    t2 = t1 + dt.timedelta(seconds=60)
    assert sending.send_one(row.pk, now=t2) == State.FAILED
    row.refresh_from_db()
    assert (row.state, row.attempts, row.next_attempt_at) == (State.FAILED, 3, None)
    assert sending.send_one(row.pk, now=t2 + dt.timedelta(days=1)) == ""


def test_inactive_users_are_not_notified(world: World) -> None:
    user = world.engineer_a
    user.email = "eng@example.cn"
    user.is_active = False
    user.save()
    assert (
        services.notify_user(user, severity="critical", dedup_key="x", template="test", context={})
        == []
    )
    assert Notification.objects.count() == 0


def test_destination_secret_and_url_stay_out_of_the_audit_trail(world: World) -> None:
    from opsassure.core.models import AuditEvent

    Destination.objects.create(
        name="DT",
        kind="dingtalk",
        url="https://oapi.dingtalk.com/robot/send?access_token=tok123",
        secret="SECxyz",
    )
    event = AuditEvent.objects.filter(object_type="notify.destination").get()
    text = str(event.changes)
    assert "tok123" not in text
    assert "SECxyz" not in text
    assert "DT" in text
