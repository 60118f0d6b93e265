"""Mailbox administration and inbound mail inspection: API and pages, scope, secrets."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from opsassure.core.models import AuditEvent
from opsassure.servicedesk.models import InboundMail, Mailbox
from tests.conftest import World, api_as, make_user

pytestmark = pytest.mark.django_db
API = "/api/v1/servicedesk/mailboxes/"
INBOUND = "/api/v1/servicedesk/inbound-mails/"


def _payload(world: World, **changes: Any) -> dict[str, Any]:
    payload = {
        "customer": world.customer_a.pk,
        "name": "Hospital desk",
        "address": "desk@hospital.example.cn",
        "imap_host": "imap.example.cn",
        "imap_port": 993,
        "imap_ssl": True,
        "imap_username": "desk",
        "imap_password": "s3cret-imap",
        "unknown_sender": "contact",
        "default_team": world.team_a.pk,
    }
    payload.update(changes)
    return payload


def test_manager_creates_a_mailbox_and_the_password_never_comes_back(world: World) -> None:
    client = api_as(world.manager)
    response = client.post(API, _payload(world), format="json")
    assert response.status_code == 201, response.content
    assert "imap_password" not in response.json()
    assert response.json()["has_password"] is True
    mailbox = Mailbox.objects.get()
    assert (mailbox.customer, mailbox.imap_password) == (world.customer_a, "s3cret-imap")

    detail = client.get(f"{API}{mailbox.pk}/")
    assert "s3cret-imap" not in detail.content.decode()
    listed = client.get(API)
    assert "s3cret-imap" not in listed.content.decode()
    assert "s3cret-imap" not in str(list(AuditEvent.objects.values_list("changes", flat=True)))

    # An update without a password keeps it; with one, replaces it.
    assert client.patch(f"{API}{mailbox.pk}/", {"name": "Desk"}, format="json").status_code == 200
    mailbox.refresh_from_db()
    assert (mailbox.name, mailbox.imap_password) == ("Desk", "s3cret-imap")
    client.patch(f"{API}{mailbox.pk}/", {"imap_password": "new-one"}, format="json")
    mailbox.refresh_from_db()
    assert mailbox.imap_password == "new-one"
    # No delete: the stored mail must stay attributable.
    assert client.delete(f"{API}{mailbox.pk}/").status_code in {403, 405}
    assert Mailbox.objects.filter(pk=mailbox.pk).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"imap_password": ""}, "imap_password"),
        ({"imap_port": 70000}, "imap_port"),
        ({"address": "not-an-address"}, "address"),
        ({"unknown_sender": "maybe"}, "unknown_sender"),
    ],
)
def test_bad_mailbox_input_is_a_400_and_writes_nothing(
    world: World, changes: dict[str, Any], field: str
) -> None:
    response = api_as(world.manager).post(API, _payload(world, **changes), format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert Mailbox.objects.count() == 0


def test_team_must_serve_the_mailbox_customer(world: World) -> None:
    response = api_as(world.manager).post(
        API, _payload(world, default_team=world.team_b.pk), format="json"
    )
    assert response.status_code == 400
    assert "default_team" in response.json()["error"]["fields"]


def test_customers_and_engineers_cannot_manage_mailboxes(world: World) -> None:
    for user in (world.customer_a_admin, world.customer_a_user, world.engineer_a):
        client = api_as(user)
        assert client.get(API).status_code == 403
        assert client.post(API, _payload(world), format="json").status_code == 403
    assert Mailbox.objects.count() == 0


def _failed_mail(world: World) -> InboundMail:
    mailbox = Mailbox.objects.create(
        customer=world.customer_a,
        name="Desk A",
        address="desk-a@desk.example.cn",
        imap_host="imap.example.cn",
        imap_username="desk",
        imap_password="pw",
    )
    return InboundMail.objects.create(
        mailbox=mailbox,
        message_id="<f-1@example.cn>",
        raw=b"From: someone@elsewhere.example\r\nSubject: <script>alert(1)</script>\r\n\r\n"
        b"<b>hi</b>",
        sender="someone@elsewhere.example",
        subject="<script>alert(1)</script>",
        state=InboundMail.State.FAILED,
        attempts=4,
        error="Unknown sender",
    )


def test_inbound_list_and_detail_pages_escape_mail_content(world: World) -> None:
    mail = _failed_mail(world)
    client = api_as(world.manager)
    page = client.get(reverse("sdmail:inbound-list"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    detail = client.get(mail.get_absolute_url())
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "<script>alert(1)" not in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html
    assert 'data-testid="reprocess"' in html


def test_inbound_pages_are_for_staff_only(world: World) -> None:
    mail = _failed_mail(world)
    for user in (world.customer_a_admin, world.customer_a_user):
        client = api_as(user)
        assert client.get(reverse("sdmail:inbound-list")).status_code == 403
        assert client.get(mail.get_absolute_url()).status_code in {403, 404}
        assert client.get(INBOUND).status_code == 403


def test_mailbox_pages(world: World) -> None:
    client = Client()
    client.force_login(world.manager)
    assert client.get(reverse("sdmail:mailbox-list")).status_code == 200
    form = client.get(reverse("sdmail:mailbox-create"))
    assert form.status_code == 200
    data = {key: value for key, value in _payload(world).items() if value is not None}
    data["is_active"] = "on"
    data["imap_ssl"] = "on"
    data["imap_folder"] = "INBOX"
    response = client.post(reverse("sdmail:mailbox-create"), data)
    assert response.status_code == 302, response.context["form"].errors
    mailbox = Mailbox.objects.get()
    assert mailbox.imap_password == "s3cret-imap"
    page = client.get(mailbox.get_absolute_url())
    assert page.status_code == 200
    assert "s3cret-imap" not in page.content.decode()
    edit = client.get(reverse("sdmail:mailbox-edit", args=[mailbox.pk]))
    assert "s3cret-imap" not in edit.content.decode()
    # Saving the edit form with an empty password keeps the stored one.
    data["imap_password"] = ""
    data["name"] = "Renamed"
    assert client.post(reverse("sdmail:mailbox-edit", args=[mailbox.pk]), data).status_code == 302
    mailbox.refresh_from_db()
    assert (mailbox.name, mailbox.imap_password) == ("Renamed", "s3cret-imap")
    bad = client.post(reverse("sdmail:mailbox-create"), {**data, "imap_port": "0"})
    assert bad.status_code == 400
    assert Mailbox.objects.count() == 1


def test_auditor_reads_but_cannot_reprocess(world: World) -> None:
    mail = _failed_mail(world)
    client = api_as(world.auditor)
    assert client.get(f"{INBOUND}{mail.pk}/").status_code == 200
    assert client.post(f"{INBOUND}{mail.pk}/reprocess/").status_code == 403
    outsider = api_as(make_user("nobody_special", None))
    assert outsider.get(f"{INBOUND}{mail.pk}/").status_code in {403, 404}


def test_inbound_lists_do_not_grow_queries_with_rows(
    world: World, django_assert_max_num_queries: Any
) -> None:
    mail = _failed_mail(world)
    for number in range(30):
        InboundMail.objects.create(
            mailbox=mail.mailbox,
            message_id=f"<n-{number}@example.cn>",
            raw=b"x" * 10_000,
            subject=f"subject {number}",
            state=InboundMail.State.IGNORED,
        )
    client = Client()
    client.force_login(world.manager)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("sdmail:inbound-list")).status_code == 200
    api = api_as(world.manager)
    with django_assert_max_num_queries(10):
        response = api.get(INBOUND)
    assert response.json()["count"] == 31
