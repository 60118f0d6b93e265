"""Pages: destinations (admin), the outbox, one's own rules, the deliveries snippet."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory

from opsassure.notify.models import Destination, Notification, NotificationRule
from tests.conftest import World

pytestmark = pytest.mark.django_db
ROBOT_URL = (
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa"
)


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_create_edit_and_test_a_destination(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    client = login(world.manager)
    response = client.post(
        "/notify/destinations/new/",
        {
            "name": "Ops WeCom",
            "customer": world.customer_a.pk,
            "kind": "wecom",
            "url": ROBOT_URL,
            "secret": "",
            "settings": '{"mentions": ["zhangsan"]}',
            "enabled": "on",
        },
    )
    destination = Destination.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/notify/destinations/{destination.pk}/"
    assert destination.settings == {"mentions": ["zhangsan"]}
    page = client.get(destination.get_absolute_url()).content.decode()
    assert "693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa" not in page
    assert "key=693••••aa" in page
    # Editing with the URL left empty keeps it; the form never echoes it.
    form = client.get(f"/notify/destinations/{destination.pk}/edit/").content.decode()
    assert "693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa" not in form
    response = client.post(
        f"/notify/destinations/{destination.pk}/edit/",
        {
            "name": "Ops WeCom 2",
            "customer": world.customer_a.pk,
            "url": "",
            "secret": "",
            "settings": "{}",
            "rate_limit_per_minute": "5",
        },
    )
    assert response.status_code == 302
    destination.refresh_from_db()
    assert (
        destination.name,
        destination.url,
        destination.rate_limit_per_minute,
        destination.enabled,
    ) == (
        "Ops WeCom 2",
        ROBOT_URL,
        5,
        False,
    )
    # "Send test message" queues a row for the destination (the fake URL fails later; fine).
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(f"/notify/destinations/{destination.pk}/test/")
    assert response.status_code == 302
    row = Notification.objects.get(destination=destination)
    assert (row.channel, row.state, row.subject) == (
        "wecom",
        "pending",
        "OpsAssure test message: Ops WeCom 2",
    )


def test_bad_destination_form_is_a_400_and_saves_nothing(world: World) -> None:
    response = login(world.manager).post(
        "/notify/destinations/new/",
        {
            "name": "X",
            "customer": world.customer_a.pk,
            "kind": "dingtalk",
            "url": "nope",
            "settings": "{not json",
        },
    )
    assert response.status_code == 400
    assert Destination.objects.count() == 0
    page = response.content.decode()
    assert "Not valid JSON: Expecting property name enclosed in double quotes" in page


def test_engineers_read_but_cannot_change_destinations(world: World) -> None:
    destination = Destination.objects.create(
        customer=world.customer_a, name="Hook", kind="webhook", url="https://x.example.cn/"
    )
    client = login(world.engineer_a)
    assert client.get("/notify/destinations/").status_code == 200
    assert client.get("/notify/destinations/new/").status_code == 403
    assert client.post(f"/notify/destinations/{destination.pk}/test/").status_code == 403
    assert Notification.objects.count() == 0


def test_my_rules_page_shows_and_edits_only_my_rules(world: World) -> None:
    theirs = NotificationRule.objects.create(user=world.operator_a, channels=["voice"], order=9)
    client = login(world.engineer_a)
    response = client.post(
        "/notify/rules/new/",
        {
            "severities": ["critical", "high"],
            "channels": ["sms"],
            "quiet_start": "22:00",
            "quiet_end": "07:00",
            "order": "1",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    mine = NotificationRule.objects.get(user=world.engineer_a)
    assert (mine.severities, mine.channels, str(mine.quiet_start)) == (
        ["critical", "high"],
        ["sms"],
        "22:00:00",
    )
    page = client.get("/notify/rules/").content.decode()
    assert "22:00–07:00" in page
    assert "voice" not in page
    assert client.get(f"/notify/rules/{theirs.pk}/edit/").status_code == 404
    assert client.post(f"/notify/rules/{theirs.pk}/delete/").status_code == 404
    assert NotificationRule.objects.filter(pk=theirs.pk).exists()
    assert client.post(f"/notify/rules/{mine.pk}/delete/").status_code == 302
    assert not NotificationRule.objects.filter(pk=mine.pk).exists()


def test_rule_form_rejects_half_quiet_hours(world: World) -> None:
    response = login(world.engineer_a).post(
        "/notify/rules/new/", {"channels": ["email"], "quiet_start": "22:00", "order": "0"}
    )
    assert response.status_code == 400
    assert NotificationRule.objects.count() == 0


def test_outbox_list_filters_by_state(world: World) -> None:
    Notification.objects.create(
        channel="email", address="a@example.cn", subject="Sent-one", dedup_key="1", state="sent"
    )
    Notification.objects.create(
        channel="email", address="b@example.cn", subject="Failed-one", dedup_key="2", state="failed"
    )
    page = login(world.manager).get("/notify/notifications/?state=failed").content.decode()
    assert "Failed-one" in page
    assert "Sent-one" not in page


def test_deliveries_snippet_is_scoped_and_escaped(world: World) -> None:
    source = world.customer_a
    Notification.objects.create(
        customer=world.customer_a,
        user=world.engineer_a,
        channel="sms",
        address="13800000000",
        subject="<script>alert(1)</script>",
        dedup_key="x",
        source_type="core.customer",
        source_id=str(source.pk),
        state="failed",
        last_error="no gateway",
    )
    template = Template("{% load notify %}{% notification_deliveries source %}")
    request = RequestFactory().get("/")
    request.user = world.engineer_a
    html = template.render(Context({"source": source, "request": request, "perms": None}))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    assert 'data-state="failed"' in html
    # A customer user does not see a page to staff about the same source.
    request.user = world.customer_a_user
    html = template.render(Context({"source": source, "request": request}))
    assert 'data-state="failed"' not in html


def test_demo_destinations_load_once(world: World) -> None:
    from opsassure.core.models import Customer
    from opsassure.notify import demo

    hospital = Customer.objects.create(code="JCH", name="JCH")
    demo.load()
    demo.load()
    assert sorted(Destination.objects.values_list("name", "kind", "customer", "enabled")) == [
        ("JCH 运维钉钉群", "dingtalk", hospital.pk, False),
        ("NOC 值班邮件组", "email", None, True),
    ]
    assert Notification.objects.count() == 0


def _queries(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        "/notify/notifications/",
        "/notify/destinations/",
        "/api/v1/notify/notifications/",
        "/api/v1/notify/destinations/",
    ],
)
def test_lists_do_not_query_per_row(world: World, url: str) -> None:
    def add(count: int) -> None:
        for _ in range(count):
            n = Notification.objects.count()
            destination = Destination.objects.create(
                customer=world.customer_a, name=f"D{n}", kind="webhook", url="https://x.example.cn/"
            )
            Notification.objects.create(
                customer=world.customer_a,
                user=world.customer_a_user,
                destination=destination,
                channel="webhook",
                subject=f"S{n}",
                dedup_key=f"q{n}",
            )

    client = login(world.manager)
    add(3)
    few = _queries(client, url)
    add(12)
    assert _queries(client, url) == few


def test_notification_detail_escapes_and_scopes(world: World) -> None:
    summary = Notification.objects.create(channel="email", subject="3 more alerts", dedup_key="d")
    row = Notification.objects.create(
        customer=world.customer_a,
        user=world.engineer_a,
        channel="sms",
        address="13800000000",
        subject="<img src=x onerror=alert(1)>",
        body="<script>alert(2)</script>",
        provider_reply='HTTP 200 {"Code": "OK"}',
        dedup_key="x",
        state="digested",
        digest=summary,
    )
    page = login(world.engineer_a).get(row.get_absolute_url()).content.decode()
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "<script>alert(2)" not in page
    assert "<img src=x" not in page
    assert f'href="/notify/notifications/{summary.pk}/"' in page
    assert "HTTP 200 {&quot;Code&quot;: &quot;OK&quot;}" in page
    # A page to staff is not found for a customer user of the same customer.
    assert login(world.customer_a_user).get(row.get_absolute_url()).status_code == 404
