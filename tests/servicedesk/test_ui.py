"""Service desk pages through the Django test client: queues, ticket page, actions, quick
create, portal. Every page for every persona; customer users never see another customer's
or another user's tickets, nor internal notes; refusals are messages with a 4xx, not 500s."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from opsassure.catalog.models import ServiceCalendar
from opsassure.catalog.policies import ensure_default_policy
from opsassure.cmdb import services as cmdb_services
from opsassure.cmdb.models import CIType
from opsassure.core.models import CustomerContact, User
from opsassure.servicedesk import ratings, services
from opsassure.servicedesk.models import (
    Attachment,
    Rating,
    SlaClock,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from tests.conftest import World

pytestmark = pytest.mark.django_db

QUEUES = ["mine", "team", "unassigned", "breaching", "open", "all"]


def browser(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def html(response: Any) -> str:
    return str(response.content.decode())


@pytest.fixture
def desk(world: World) -> World:
    """Both customers on a 7×24 policy, so that clocks run whatever the day of the test."""
    always = ServiceCalendar.objects.get(customer__isnull=True, code="7x24")
    ensure_default_policy(world.customer_a, calendar=always)
    ensure_default_policy(world.customer_b, calendar=always)
    return world


def ticket_for(
    world: World, title: str, *, customer: Any = None, requester: User | None = None, **extra: Any
) -> Ticket:
    return services.create_ticket(
        actor=world.engineer_a if customer in (None, world.customer_a) else None,
        customer=customer or world.customer_a,
        title=title,
        description=f"About {title}",
        requester=requester,
        **extra,
    )


# --- queues ---------------------------------------------------------------------------------


@pytest.mark.parametrize("queue", QUEUES)
def test_every_queue_renders_for_staff_with_sla_countdowns(desk: World, queue: str) -> None:
    ticket = ticket_for(
        desk, "Printer on fire", impact=1, urgency=1, assignee=desk.engineer_a, team=desk.team_a
    )
    response = browser(desk.engineer_a).get(f"/servicedesk/queues/{queue}/")
    assert response.status_code == 200
    page = html(response)
    shown = [t.number for t in response.context["tickets"]]
    expected = [] if queue in ("unassigned", "breaching") else [ticket.number]
    assert shown == expected
    if expected:
        # The countdown: computed here, in the badge, with the due instant for the ticker.
        assert 'data-testid="sla-response"' in page
        assert "data-due=" in page
        assert ">P1<" in page


def test_queue_shows_unassigned_and_breaching_tickets(desk: World) -> None:
    # Opened on a working Monday morning (the default policy counts 5×8 business time, so
    # "50 minutes ago" would depend on the hour the suite runs at).
    old = dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    late = ticket_for(desk, "Old unanswered call", impact=1, urgency=1, now=old)
    fresh = ticket_for(desk, "New quiet question", impact=3, urgency=3)
    client = browser(desk.engineer_a)
    unassigned = client.get("/servicedesk/queues/unassigned/")
    assert {t.number for t in unassigned.context["tickets"]} == {late.number, fresh.number}
    breaching = client.get("/servicedesk/queues/breaching/")
    assert [t.number for t in breaching.context["tickets"]] == [late.number]
    row = next(t for t in breaching.context["tickets"] if t.number == late.number)
    # A P1 response target of 15 minutes, 50 minutes ago: red, overdue.
    assert row.sla.tone == "red"
    assert row.sla.remaining_seconds is not None
    assert row.sla.remaining_seconds < 0


def test_queue_filters_live_in_the_url(desk: World) -> None:
    p1 = ticket_for(desk, "Core switch down", impact=1, urgency=1)
    p4 = ticket_for(desk, "Mouse squeaks", impact=3, urgency=3)
    client = browser(desk.engineer_a)
    only_p1 = client.get("/servicedesk/queues/open/?priority=1")
    assert [t.number for t in only_p1.context["tickets"]] == [p1.number]
    by_number = client.get(f"/servicedesk/queues/open/?q={p4.number}")
    assert [t.number for t in by_number.context["tickets"]] == [p4.number]
    by_words = client.get("/servicedesk/queues/all/?q=switch")
    assert [t.number for t in by_words.context["tickets"]] == [p1.number]
    nonsense = client.get("/servicedesk/queues/open/?priority=9")
    assert nonsense.status_code == 200
    assert list(nonsense.context["tickets"]) == []
    assert 'data-testid="filter-error"' in html(nonsense)


def test_queue_query_count_does_not_grow_with_rows(desk: World) -> None:
    client = browser(desk.engineer_a)
    ticket_for(desk, "one")
    client.get("/servicedesk/queues/open/")
    with CaptureQueriesContext(connection) as few:
        client.get("/servicedesk/queues/open/")
    for index in range(6):
        ticket_for(desk, f"more {index}", assignee=desk.engineer_a, team=desk.team_a)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/servicedesk/queues/open/")
    assert len(response.context["tickets"]) == 7
    assert len(many.captured_queries) == len(few.captured_queries)


def test_customer_users_get_their_portal_list_and_nothing_else(desk: World) -> None:
    own = ticket_for(desk, "My laptop", requester=desk.customer_a_user)
    colleague = ticket_for(desk, "Colleague's VPN")  # requested by nobody, not shared
    shared = ticket_for(desk, "Everyone's e-mail", shared_with_customer=True)
    theirs = ticket_for(
        desk, "B's trading desk", customer=desk.customer_b, requester=desk.customer_b_user
    )
    for url in ("/servicedesk/portal/?show=all", "/servicedesk/queues/open/"):
        page = html(browser(desk.customer_a_user).get(url))
        assert own.number in page
        assert shared.number in page
        assert colleague.number not in page
        assert theirs.number not in page
        assert desk.customer_b.name not in page
    admin_page = html(browser(desk.customer_a_admin).get("/servicedesk/portal/?show=all"))
    assert own.number in admin_page
    assert colleague.number in admin_page
    assert theirs.number not in admin_page


def test_staff_queue_never_shows_customers_a_team_does_not_serve(desk: World) -> None:
    theirs = ticket_for(desk, "B only", customer=desk.customer_b)
    page = html(browser(desk.engineer_a).get("/servicedesk/queues/all/"))
    assert theirs.number not in page
    assert desk.customer_b.name not in page


def test_outsider_and_anonymous_are_refused(desk: World) -> None:
    assert browser(desk.outsider).get("/servicedesk/queues/open/").status_code == 403
    anonymous = Client().get("/servicedesk/queues/open/")
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]


# --- ticket page ----------------------------------------------------------------------------


def test_ticket_page_per_persona(desk: World) -> None:
    ticket = ticket_for(desk, "Database slow", requester=desk.customer_a_user)
    services.add_reply(ticket, actor=desk.engineer_a, body="We are looking into it.")
    services.add_reply(
        ticket, actor=desk.engineer_a, body="SECRET-NOTE: blame vendor", public=False
    )
    url = ticket.get_absolute_url()
    engineer = html(browser(desk.engineer_a).get(url))
    assert "SECRET-NOTE" in engineer
    assert "We are looking into it." in engineer
    assert 'data-testid="actions-card"' in engineer
    assert 'data-testid="sla-resolution"' in engineer
    manager = browser(desk.manager).get(url)
    assert manager.status_code == 200
    auditor = html(browser(desk.auditor).get(url))
    assert "SECRET-NOTE" in auditor
    assert 'data-testid="actions-card"' not in auditor  # reads, does not work
    for customer in (desk.customer_a_user, desk.customer_a_admin):
        response = browser(customer).get(url)
        assert response.status_code == 200
        page = html(response)
        assert "We are looking into it." in page
        assert "SECRET-NOTE" not in page
        assert 'data-testid="actions-card"' not in page
    assert browser(desk.customer_b_user).get(url).status_code == 404
    assert browser(desk.outsider).get(url).status_code == 403


def test_customer_user_cannot_open_a_colleagues_ticket(desk: World) -> None:
    colleague = ticket_for(desk, "Not yours")
    assert browser(desk.customer_a_user).get(colleague.get_absolute_url()).status_code == 404
    assert browser(desk.customer_a_admin).get(colleague.get_absolute_url()).status_code == 200


def test_ticket_page_links_cis_to_the_cmdb(desk: World) -> None:
    ci = cmdb_services.create_ci(
        actor=None,
        customer_id=desk.customer_a.pk,
        ci_type=CIType.objects.get(code="server"),
        name="his-db-01",
    )
    ticket = ticket_for(desk, "HIS down", cis=[ci])
    page = html(browser(desk.engineer_a).get(ticket.get_absolute_url()))
    assert f'href="{ci.get_absolute_url()}"' in page


def test_transition_buttons_are_only_the_allowed_ones(desk: World) -> None:
    ticket = ticket_for(desk, "Buttons")
    page = html(browser(desk.engineer_a).get(ticket.get_absolute_url()))
    shown = set(re.findall(r'data-testid="move-([a-z_]+)"', page))
    assert shown == {"assigned", "in_progress", "pending", "resolved", "cancelled"}
    # The moves that need more say so: pending reason, resolution code and note.
    assert 'name="pending_reason"' in page
    assert 'name="resolution_code"' in page
    assert 'name="resolution_note"' in page


# --- actions --------------------------------------------------------------------------------


def test_reply_and_internal_note(desk: World) -> None:
    ticket = ticket_for(desk, "Replies", requester=desk.customer_a_user)
    client = browser(desk.engineer_a)
    url = ticket.get_absolute_url()
    response = client.post(f"{url}reply/", {"reply-body": "Please restart it."})
    assert response.status_code == 302
    response = client.post(f"{url}note/", {"note-body": "internal: it is the disk"})
    assert response.status_code == 302
    events = TicketEvent.objects.filter(ticket=ticket, kind__in=["reply", "note"])
    assert [(e.body, e.is_public) for e in events.order_by("id")] == [
        ("Please restart it.", True),
        ("internal: it is the disk", False),
    ]
    customer_page = html(browser(desk.customer_a_user).get(url))
    assert "Please restart it." in customer_page
    assert "it is the disk" not in customer_page
    # An empty reply is a form error; nothing written.
    empty = client.post(f"{url}reply/", {"reply-body": ""})
    assert empty.status_code == 400
    assert 'data-testid="field-error"' in html(empty)
    assert TicketEvent.objects.filter(ticket=ticket, kind__in=["reply", "note"]).count() == 2


def test_customer_replies_but_cannot_write_internal_notes(desk: World) -> None:
    ticket = ticket_for(desk, "Portal replies", requester=desk.customer_a_user)
    client = browser(desk.customer_a_user)
    url = ticket.get_absolute_url()
    assert client.post(f"{url}reply/", {"reply-body": "Still broken"}).status_code == 302
    assert client.post(f"{url}note/", {"note-body": "sneaky"}).status_code == 403
    assert client.post(f"{url}assign/", {"assignee": desk.engineer_a.pk}).status_code == 403
    assert list(
        TicketEvent.objects.filter(ticket=ticket, kind__in=["reply", "note"]).values_list(
            "body", flat=True
        )
    ) == ["Still broken"]


def test_assign_and_take(desk: World) -> None:
    ticket = ticket_for(desk, "Assign me")
    client = browser(desk.operator_a)
    url = ticket.get_absolute_url()
    response = client.post(
        f"{url}assign/", {"team": desk.team_a.pk, "assignee": desk.engineer_a.pk}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.team_id, ticket.assignee_id) == (desk.team_a.pk, desk.engineer_a.pk)
    assert client.post(f"{url}assign/", {"take": "1"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee_id == desk.operator_a.pk
    # Another customer's team: not a choice; nothing changes.
    refused = client.post(f"{url}assign/", {"team": desk.team_b.pk})
    assert refused.status_code == 400
    ticket.refresh_from_db()
    assert ticket.team_id == desk.team_a.pk


def test_invalid_transition_is_a_message_with_409(desk: World) -> None:
    ticket = ticket_for(desk, "Cannot close yet")
    response = browser(desk.engineer_a).post(
        f"{ticket.get_absolute_url()}transition/", {"to": "closed"}
    )
    assert response.status_code == 409
    page = html(response)
    assert 'role="alert"' in page
    assert "cannot go from" in page
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


def test_resolve_needs_code_and_note_then_works(desk: World) -> None:
    ticket = ticket_for(desk, "Resolve me", assignee=desk.engineer_a, team=desk.team_a)
    client = browser(desk.engineer_a)
    url = f"{ticket.get_absolute_url()}transition/"
    missing = client.post(url, {"to": "resolved"})
    assert missing.status_code == 400
    assert "Choose a resolution code." in html(missing)
    ticket.refresh_from_db()
    assert ticket.resolved_at is None
    done = client.post(
        url, {"to": "resolved", "resolution_code": "solved", "resolution_note": "Replaced disk"}
    )
    assert done.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.resolution_code) == (TicketStatus.RESOLVED, "solved")
    assert ticket.resolved_at is not None


def test_pending_needs_a_reason_and_pauses_the_clock(desk: World) -> None:
    ticket = ticket_for(desk, "Wait for them", assignee=desk.engineer_a, team=desk.team_a)
    client = browser(desk.engineer_a)
    url = f"{ticket.get_absolute_url()}transition/"
    assert client.post(url, {"to": "pending"}).status_code == 400
    assert client.post(url, {"to": "pending", "pending_reason": "customer"}).status_code == 302
    page = html(client.get(ticket.get_absolute_url()))
    assert "Paused" in page
    clock = SlaClock.objects.get(ticket=ticket, metric="resolution", team__isnull=True)
    assert clock.state == SlaClock.State.PAUSED


def test_classify_recomputes_priority(desk: World) -> None:
    ticket = ticket_for(desk, "Classify", impact=3, urgency=3)
    assert ticket.priority == 4
    response = browser(desk.engineer_a).post(
        f"{ticket.get_absolute_url()}classify/", {"impact": 1, "urgency": 1, "priority": ""}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.impact, ticket.urgency, ticket.priority) == (1, 1, 1)


def test_record_arrival(desk: World) -> None:
    ticket = ticket_for(desk, "On site", assignee=desk.engineer_a, team=desk.team_a)
    response = browser(desk.engineer_a).post(f"{ticket.get_absolute_url()}arrival/")
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.arrived_at is not None


def test_attachments_private_and_public(desk: World) -> None:
    ticket = ticket_for(desk, "Files", requester=desk.customer_a_user)
    client = browser(desk.engineer_a)
    url = ticket.get_absolute_url()
    for name, public in (("public.txt", "on"), ("private.txt", "")):
        upload = SimpleUploadedFile(name, b"log line\n", content_type="text/plain")
        response = client.post(f"{url}attach/", {"file": upload, "public": public})
        assert response.status_code == 302, html(response)[:500]
    public_file = Attachment.objects.get(ticket=ticket, filename="public.txt")
    private_file = Attachment.objects.get(ticket=ticket, filename="private.txt")
    download = client.get(f"/servicedesk/attachments/{private_file.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"log line\n"
    customer = browser(desk.customer_a_user)
    assert customer.get(f"/servicedesk/attachments/{public_file.pk}/").status_code == 200
    assert customer.get(f"/servicedesk/attachments/{private_file.pk}/").status_code == 404
    assert "private.txt" not in html(customer.get(url))
    other = browser(desk.customer_b_user)
    assert other.get(f"/servicedesk/attachments/{public_file.pk}/").status_code == 404


def test_refused_attachment_type_is_a_message(desk: World) -> None:
    ticket = ticket_for(desk, "Bad file")
    upload = SimpleUploadedFile("evil.html", b"<script>", content_type="text/html")
    response = browser(desk.engineer_a).post(
        f"{ticket.get_absolute_url()}attach/", {"file": upload, "public": "on"}
    )
    assert response.status_code == 415
    assert 'role="alert"' in html(response)
    assert Attachment.objects.filter(ticket=ticket).count() == 0


def test_too_large_attachment_is_a_message_with_413(desk: World, settings: Any) -> None:
    settings.OPSASSURE_ATTACHMENT_MAX_BYTES = 10
    ticket = ticket_for(desk, "Big file", requester=desk.customer_a_user)
    upload = SimpleUploadedFile("big.txt", b"x" * 11, content_type="text/plain")
    response = browser(desk.customer_a_user).post(
        f"{ticket.get_absolute_url()}reply/", {"reply-body": "see file", "reply-attachment": upload}
    )
    assert response.status_code == 413
    assert "too large" in html(response)
    # The reply and the file go together or not at all.
    assert TicketEvent.objects.filter(ticket=ticket, kind="reply").count() == 0
    assert Attachment.objects.filter(ticket=ticket).count() == 0


# --- quick create ---------------------------------------------------------------------------


def test_phone_quick_create(desk: World) -> None:
    contact = CustomerContact.objects.create(
        customer=desk.customer_a, name="Dr Chen", phone="13800000000", email="chen@a.example"
    )
    client = browser(desk.operator_a)
    form = client.get("/servicedesk/tickets/new/phone/")
    assert form.status_code == 200
    assert desk.customer_b.name not in html(form)
    fields = client.get(
        "/servicedesk/tickets/new/phone/customer-fields/", {"customer": desk.customer_a.pk}
    )
    assert "Dr Chen" in html(fields)
    preview = client.get(
        "/servicedesk/tickets/new/phone/priority/",
        {"customer": desk.customer_a.pk, "impact": 1, "urgency": 1},
    )
    assert "P1 critical" in html(preview)
    response = client.post(
        "/servicedesk/tickets/new/phone/",
        {
            "customer": desk.customer_a.pk,
            "requester_contact": contact.pk,
            "kind": "incident",
            "impact": 1,
            "urgency": 1,
            "title": "HIS cannot print prescriptions",
            "description": "Ward 3 since 9:00",
            "assign_to_me": "on",
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(title="HIS cannot print prescriptions")
    assert response["Location"] == ticket.get_absolute_url()
    assert (ticket.channel, ticket.priority, ticket.requester_contact_id) == (
        "phone",
        1,
        contact.pk,
    )
    assert ticket.assignee_id == desk.operator_a.pk


def test_phone_quick_create_with_a_typed_caller_and_errors(desk: World) -> None:
    client = browser(desk.operator_a)
    missing = client.post(
        "/servicedesk/tickets/new/phone/",
        {"customer": desk.customer_a.pk, "kind": "incident", "impact": 2, "urgency": 2},
    )
    assert missing.status_code == 400
    page = html(missing)
    assert "Choose the calling contact or type the caller&#x27;s name." in page
    assert Ticket.objects.count() == 0
    foreign = client.post(
        "/servicedesk/tickets/new/phone/",
        {
            "customer": desk.customer_b.pk,
            "requester_name": "x",
            "kind": "incident",
            "impact": 2,
            "urgency": 2,
            "title": "t",
        },
    )
    assert foreign.status_code == 400
    assert Ticket.objects.count() == 0
    ok = client.post(
        "/servicedesk/tickets/new/phone/",
        {
            "customer": desk.customer_a.pk,
            "requester_name": "Nurse Wang",
            "requester_phone": "139",
            "kind": "request",
            "impact": 3,
            "urgency": 2,
            "title": "New account",
        },
    )
    assert ok.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.requester_name, ticket.kind) == ("Nurse Wang (139)", "request")


def test_customers_cannot_use_the_phone_form(desk: World) -> None:
    assert browser(desk.customer_a_user).get("/servicedesk/tickets/new/phone/").status_code == 403


# --- portal ---------------------------------------------------------------------------------


def test_portal_new_ticket_resolve_and_rate(desk: World) -> None:
    client = browser(desk.customer_a_user)
    assert client.get("/servicedesk/portal/new/").status_code == 200
    response = client.post(
        "/servicedesk/portal/new/",
        {
            "kind": "incident",
            "title": "Cannot log in",
            "description": "Since today",
            "impact": 3,
            "urgency": 2,
        },
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get(title="Cannot log in")
    assert (ticket.requester_id, ticket.channel, ticket.customer_id) == (
        desk.customer_a_user.pk,
        "portal",
        desk.customer_a.pk,
    )
    services.transition(
        ticket,
        actor=desk.engineer_a,
        to="resolved",
        resolution_code="solved",
        resolution_note="Password reset",
    )
    page = html(client.get(ticket.get_absolute_url()))
    assert 'data-testid="rating-form"' in page
    assert 'data-testid="reopen-form"' in page
    no_score = client.post(f"{ticket.get_absolute_url()}rate/", {"comment": "?"})
    assert no_score.status_code == 400
    assert Rating.objects.filter(ticket=ticket).count() == 0
    rated = client.post(f"{ticket.get_absolute_url()}rate/", {"score": 5, "comment": "Fast!"})
    assert rated.status_code == 302
    assert Rating.objects.get(ticket=ticket).score == 5
    again = client.post(f"{ticket.get_absolute_url()}rate/", {"score": 1})
    assert again.status_code == 409
    assert "already been rated" in html(again)
    assert Rating.objects.get(ticket=ticket).score == 5


def test_portal_reopen(desk: World) -> None:
    ticket = ticket_for(desk, "Comes back", requester=desk.customer_a_user)
    services.transition(
        ticket,
        actor=desk.engineer_a,
        to="resolved",
        resolution_code="workaround",
        resolution_note="Rebooted",
    )
    client = browser(desk.customer_a_user)
    url = f"{ticket.get_absolute_url()}transition/"
    assert client.post(url, {"to": "reopened", "comment": ""}).status_code == 400
    assert client.post(url, {"to": "reopened", "comment": "Broken again"}).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.REOPENED
    # A customer cannot make the provider's moves.
    refused = client.post(url, {"to": "in_progress"})
    assert refused.status_code == 409
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.REOPENED


def test_portal_new_is_for_customer_users(desk: World) -> None:
    assert browser(desk.engineer_a).get("/servicedesk/portal/new/").status_code == 403
    assert browser(desk.engineer_a).get("/servicedesk/portal/").status_code == 302


def test_rating_link_works_without_login_once(desk: World) -> None:
    ticket = ticket_for(desk, "Rated by mail", requester=desk.customer_a_user)
    services.transition(
        ticket,
        actor=desk.engineer_a,
        to="resolved",
        resolution_code="solved",
        resolution_note="Done",
    )
    url = f"/servicedesk/rate/{ratings.make_token(ticket)}/"
    anonymous = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = anonymous.get(url)
    assert page.status_code == 200
    assert ticket.number in html(page)
    assert "Done" not in html(page)  # the link shows number and title, nothing more
    assert anonymous.post(url, {"score": 9}).status_code == 400
    assert Rating.objects.filter(ticket=ticket).count() == 0
    assert anonymous.post(url, {"score": 4, "comment": "ok"}).status_code == 200
    assert Rating.objects.get(ticket=ticket).score == 4
    again = anonymous.get(url)
    assert "already been rated" in html(again)
    assert 'data-testid="rating-form"' not in html(again)
    forged = anonymous.get(f"/servicedesk/rate/{ratings.make_token(ticket)}x/")
    assert forged.status_code == 400
    assert "not valid" in html(forged)
