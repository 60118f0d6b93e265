"""The notify API: destinations (secrets never returned), the outbox, one's own rules."""

from __future__ import annotations

from typing import Any

import pytest

from opsassure.notify.models import Destination, Notification, NotificationRule
from tests.conftest import World, api_as

pytestmark = pytest.mark.django_db
ROBOT_URL = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123456789"


def test_create_destination_secret_and_token_never_come_back(world: World) -> None:
    client = api_as(world.manager)
    response = client.post(
        "/api/v1/notify/destinations/",
        {
            "customer": world.customer_a.pk,
            "name": "Ops group",
            "kind": "dingtalk",
            "url": ROBOT_URL,
            "secret": "SECabcdefghijklmnop",
            "settings": {"at_mobiles": ["13800000000"]},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert "secret" not in body
    assert "url" not in body
    assert body["secret_masked"] == "SEC••••op"
    assert body["url_masked"] == "https://oapi.dingtalk.com/robot/send?access_token=012••••89"
    assert body["effective_rate_limit"] == 20
    assert "SECabcdefghijklmnop" not in response.content.decode()
    assert (
        "0123456789abcdef0123456789"
        not in client.get(f"/api/v1/notify/destinations/{body['id']}/").content.decode()
    )
    saved = Destination.objects.get(pk=body["id"])
    assert (saved.url, saved.secret) == (ROBOT_URL, "SECabcdefghijklmnop")


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        (
            {"kind": "dingtalk", "url": "ftp://x"},
            "url",
            "Enter the robot's or webhook's http(s) URL.",
        ),
        (
            {"kind": "email", "url": "not-an-address"},
            "url",
            "Enter one or more e-mail addresses, separated by commas.",
        ),
        (
            {"kind": "sms", "url": "https://sms.example.cn"},
            "settings",
            'An SMS or voice destination needs a "gateway" template.',
        ),
        (
            {
                "kind": "sms",
                "url": "https://sms.example.cn",
                "settings": {"gateway": {"method": "DELETE"}},
            },
            "settings",
            "Gateway: method must be GET, POST or PUT",
        ),
        (
            {"kind": "webhook", "url": "https://x.example.cn", "settings": {"at_mobiles": "138"}},
            "settings",
            '"at_mobiles" must be a list of strings.',
        ),
        (
            {"kind": "pigeon", "url": "https://x.example.cn"},
            "kind",
            "pigeon",  # Django's own message, in the request's language
        ),
    ],
)
def test_bad_destinations_get_a_400_and_nothing_is_stored(
    world: World, payload: dict[str, Any], field: str, message: str
) -> None:
    response = api_as(world.manager).post(
        "/api/v1/notify/destinations/",
        {"name": "X", "customer": world.customer_a.pk, **payload},
        format="json",
    )
    assert response.status_code == 400
    messages = response.json()["error"]["fields"][field]
    assert len(messages) == 1
    assert message in messages[0]
    assert Destination.objects.count() == 0


def test_provider_wide_destinations_need_the_all_customers_permission(world: World) -> None:
    payload = {"name": "All", "kind": "webhook", "url": "https://x.example.cn/in", "customer": None}
    engineer = api_as(world.engineer_a)  # may not add at all
    assert engineer.post("/api/v1/notify/destinations/", payload, format="json").status_code == 403
    manager = api_as(world.manager)
    assert manager.post("/api/v1/notify/destinations/", payload, format="json").status_code == 201
    assert Destination.objects.filter(customer=None).count() == 1


def test_test_action_queues_a_message(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    destination = Destination.objects.create(
        customer=world.customer_a, name="List", kind="email", url="ops@example.cn"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(world.manager).post(f"/api/v1/notify/destinations/{destination.pk}/test/")
    assert response.status_code == 202
    row = Notification.objects.get(destination=destination)
    assert response.json()["id"] == row.pk
    assert row.state == Notification.State.SENT
    assert (
        api_as(world.engineer_a)
        .post(f"/api/v1/notify/destinations/{destination.pk}/test/")
        .status_code
        == 403
    )


def test_notifications_are_read_only_and_mask_robot_urls(world: World) -> None:
    destination = Destination.objects.create(
        customer=world.customer_a, name="DT", kind="dingtalk", url=ROBOT_URL
    )
    row = Notification.objects.create(
        customer=world.customer_a,
        destination=destination,
        channel="dingtalk",
        address=ROBOT_URL,
        subject="s",
        dedup_key="k",
    )
    client = api_as(world.engineer_a)
    body = client.get(f"/api/v1/notify/notifications/{row.pk}/").json()
    assert body["address"] == "https://oapi.dingtalk.com/robot/send?access_token=012••••89"
    patch = client.patch(
        f"/api/v1/notify/notifications/{row.pk}/", {"state": "sent"}, format="json"
    )
    assert patch.status_code == 403  # no change permission (and no write route at all)
    row.refresh_from_db()
    assert row.state == Notification.State.PENDING
    assert client.get("/api/v1/notify/notifications/?state=pending").json()["count"] == 1
    assert client.get("/api/v1/notify/notifications/?state=sent").json()["count"] == 0


def test_customer_users_do_not_see_pages_to_staff(world: World) -> None:
    to_staff = Notification.objects.create(
        customer=world.customer_a,
        user=world.engineer_a,
        channel="sms",
        address="13800000000",
        subject="page",
        dedup_key="a",
    )
    to_them = Notification.objects.create(
        customer=world.customer_a,
        user=world.customer_a_user,
        channel="email",
        address="u@example.cn",
        subject="hi",
        dedup_key="b",
    )
    ids = {
        item["id"]
        for item in api_as(world.customer_a_admin)
        .get("/api/v1/notify/notifications/")
        .json()["results"]
    }
    assert ids == {to_them.pk}
    assert to_staff.pk not in ids


def test_rules_are_the_requesters_own(world: World) -> None:
    theirs = NotificationRule.objects.create(user=world.operator_a, channels=["sms"])
    client = api_as(world.engineer_a)
    response = client.post(
        "/api/v1/notify/rules/",
        {
            "severities": ["critical"],
            "channels": ["sms", "email"],
            "quiet_start": "22:00",
            "quiet_end": "07:00",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    rule = NotificationRule.objects.get(pk=response.json()["id"])
    assert rule.user_id == world.engineer_a.pk
    listed = [item["id"] for item in client.get("/api/v1/notify/rules/").json()["results"]]
    assert listed == [rule.pk]
    assert client.get(f"/api/v1/notify/rules/{theirs.pk}/").status_code == 404
    assert client.delete(f"/api/v1/notify/rules/{theirs.pk}/").status_code == 404
    assert NotificationRule.objects.filter(pk=theirs.pk).exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"channels": ["pigeon"]}, "channels"),
        ({"channels": []}, "channels"),
        ({"channels": ["email"], "severities": ["urgent"]}, "severities"),
        ({"channels": ["email"], "quiet_start": "22:00"}, "quiet_end"),
        ({"channels": ["email"], "quiet_start": "22:00", "quiet_end": "22:00"}, "quiet_end"),
        ({"channels": ["email"], "quiet_start": "25:00", "quiet_end": "07:00"}, "quiet_start"),
    ],
)
def test_bad_rules_get_a_400(world: World, payload: dict[str, Any], field: str) -> None:
    response = api_as(world.engineer_a).post("/api/v1/notify/rules/", payload, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert NotificationRule.objects.count() == 0
