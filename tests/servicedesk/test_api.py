"""The service-desk API: scope, actions, error format, attachments, ratings, query counts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from opsassure.servicedesk import attachments, ratings, services
from opsassure.servicedesk.models import Attachment, Rating, SlaClock, Ticket, TicketEvent
from tests.conftest import World, api_as
from tests.servicedesk.conftest import sh

pytestmark = pytest.mark.django_db

BASE = "/api/v1/servicedesk/tickets/"


def _ticket(sd: World, **kwargs: Any) -> Ticket:
    values: dict[str, Any] = {
        "actor": sd.engineer_a,
        "customer": sd.customer_a,
        "title": "邮件系统故障",
        "requester": sd.customer_a_user,
    }
    values.update(kwargs)
    return services.create_ticket(**values)


def _error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    return body


def test_customer_user_opens_a_ticket_for_their_customer(sd: World) -> None:
    client = api_as(sd.customer_a_user)
    response = client.post(BASE, {"title": "无法登录 OA", "description": "密码正确"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert re.fullmatch(r"INC-\d{4}-000001", body["number"])
    assert body["customer"] == sd.customer_a.pk
    assert body["requester"] == sd.customer_a_user.pk
    assert body["channel"] == "api"
    assert body["allowed_transitions"] == ["cancelled"]
    assert body["response_due"] is not None


def test_missing_fields_are_400_with_field_errors_and_nothing_written(sd: World) -> None:
    client = api_as(sd.engineer_a)
    response = client.post(BASE, {"customer": sd.customer_a.pk}, format="json")
    assert response.status_code == 400
    assert _error(response)["code"] == "validation_error"
    assert "title" in _error(response)["fields"]
    response = client.post(BASE, {"title": "x"}, format="json")
    assert response.status_code == 400
    assert set(_error(response)["fields"]) == {"customer"}
    foreign = client.post(BASE, {"title": "x", "customer": sd.customer_b.pk}, format="json")
    assert foreign.status_code == 400
    assert Ticket.objects.count() == 0


def test_invalid_transition_is_409_with_the_allowed_moves(sd: World) -> None:
    ticket = _ticket(sd)
    client = api_as(sd.engineer_a)
    response = client.post(f"{BASE}{ticket.pk}/transition/", {"to": "closed"}, format="json")
    assert response.status_code == 409
    error = _error(response)
    assert error["code"] == "transition_not_allowed"
    assert error["fields"]["allowed"] == [
        "assigned",
        "cancelled",
        "in_progress",
        "pending",
        "resolved",
    ]
    assert Ticket.objects.get(pk=ticket.pk).status == "new"
    missing = client.post(f"{BASE}{ticket.pk}/transition/", {"to": "resolved"}, format="json")
    assert missing.status_code == 400
    assert set(_error(missing)["fields"]) == {"resolution_code", "resolution_note"}
    ok = client.post(
        f"{BASE}{ticket.pk}/transition/",
        {"to": "resolved", "resolution_code": "solved", "resolution_note": "重启服务"},
        format="json",
    )
    assert ok.status_code == 200
    assert ok.json()["status"] == "resolved"


def test_assign_comment_and_timeline_visibility(sd: World) -> None:
    ticket = _ticket(sd)
    staff = api_as(sd.engineer_a)
    assert (
        staff.post(
            f"{BASE}{ticket.pk}/assign/", {"assignee": sd.engineer_a.pk}, format="json"
        ).status_code
        == 200
    )
    note = staff.post(
        f"{BASE}{ticket.pk}/comment/",
        {"body": "内部：怀疑证书过期", "public": False},
        format="json",
    )
    assert note.status_code == 201
    reply = staff.post(f"{BASE}{ticket.pk}/comment/", {"body": "正在处理"}, format="json")
    assert reply.status_code == 201
    assert Ticket.objects.get(pk=ticket.pk).responded_at is not None
    customer = api_as(sd.customer_a_user)
    refused = customer.post(
        f"{BASE}{ticket.pk}/comment/", {"body": "x", "public": False}, format="json"
    )
    assert refused.status_code == 403
    assert _error(refused)["code"] == "permission_denied"
    assigned = customer.post(
        f"{BASE}{ticket.pk}/assign/", {"team": None, "assignee": None}, format="json"
    )
    assert assigned.status_code == 403
    kinds_staff = [e["kind"] for e in staff.get(f"{BASE}{ticket.pk}/events/").json()["results"]]
    kinds_customer = [
        e["kind"] for e in customer.get(f"{BASE}{ticket.pk}/events/").json()["results"]
    ]
    assert kinds_staff == ["created", "assignment", "note", "reply"]
    assert kinds_customer == ["created", "assignment", "reply"]


def test_customer_user_sees_own_and_shared_admin_sees_all(sd: World) -> None:
    own = _ticket(sd)
    colleague = _ticket(sd, requester=None, title="同事的工单")
    shared = _ticket(sd, requester=None, shared_with_customer=True, title="全院通知")
    user_ids = {t["id"] for t in api_as(sd.customer_a_user).get(BASE).json()["results"]}
    admin_ids = {t["id"] for t in api_as(sd.customer_a_admin).get(BASE).json()["results"]}
    assert user_ids == {own.pk, shared.pk}
    assert admin_ids == {own.pk, colleague.pk, shared.pk}
    assert api_as(sd.customer_a_user).get(f"{BASE}{colleague.pk}/").status_code == 404
    assert api_as(sd.customer_a_user).get(f"{BASE}{colleague.pk}/events/").status_code == 404
    assert api_as(sd.customer_b_user).get(f"{BASE}{own.pk}/").status_code == 404


def test_patch_priority_retargets_staff_only(sd: World) -> None:
    ticket = _ticket(sd)
    refused = api_as(sd.customer_a_user).patch(
        f"{BASE}{ticket.pk}/", {"priority": 1}, format="json"
    )
    assert refused.status_code == 403
    response = api_as(sd.engineer_a).patch(f"{BASE}{ticket.pk}/", {"priority": 1}, format="json")
    assert response.status_code == 200
    clock = SlaClock.objects.get(ticket=ticket, metric="resolution", team=None)
    assert clock.target_minutes == 240
    bad = api_as(sd.engineer_a).patch(f"{BASE}{ticket.pk}/", {"priority": 9}, format="json")
    assert bad.status_code == 400
    assert api_as(sd.engineer_a).put(f"{BASE}{ticket.pk}/", {}, format="json").status_code == 405


def test_filters(sd: World) -> None:
    now_ticket = _ticket(sd, impact=1, urgency=1)  # P1: response due in 15 business minutes
    old = _ticket(sd, priority=4)
    client = api_as(sd.engineer_a)
    ids = {t["id"] for t in client.get(BASE, {"priority": [1]}).json()["results"]}
    assert ids == {now_ticket.pk}
    ids = {t["id"] for t in client.get(BASE, {"q": old.number}).json()["results"]}
    assert ids == {old.pk}
    ids = {
        t["id"] for t in client.get(BASE, {"status": ["new"], "kind": "incident"}).json()["results"]
    }
    assert ids == {now_ticket.pk, old.pk}
    # Past the first warning threshold of its response clock.
    SlaClock.objects.filter(ticket=now_ticket, metric="response", team=None).update(
        warn_first_at=sh(2020, 1, 1)
    )
    ids = {t["id"] for t in client.get(BASE, {"breaching_soon": "true"}).json()["results"]}
    assert now_ticket.pk in ids
    assert old.pk not in ids


def test_list_query_count_does_not_grow_with_rows(sd: World) -> None:
    client = api_as(sd.engineer_a)
    for _ in range(3):
        _ticket(sd)
    with CaptureQueriesContext(connection) as few:
        assert client.get(BASE).status_code == 200
    for _ in range(12):
        _ticket(sd)
    with CaptureQueriesContext(connection) as many:
        assert client.get(BASE).status_code == 200
    assert len(many) == len(few)


def test_list_shows_status_and_priority_labels_in_the_callers_language(sd: World) -> None:
    ticket = _ticket(sd, priority=2, team=sd.team_a)
    client = api_as(sd.engineer_a)
    rows = client.get(BASE, HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    assert [(r["id"], r["status_display"], r["priority_display"]) for r in rows] == [
        (ticket.pk, "Assigned", "P2 high")
    ]
    rows = client.get(BASE, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"]
    assert (rows[0]["status_display"], rows[0]["priority_display"]) == ("已分派", "P2 高")


def _upload(name: str, content: bytes = b"hello") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, "application/octet-stream")


def test_attachment_upload_limits_and_download(sd: World, settings: Any) -> None:
    settings.OPSASSURE_ATTACHMENT_MAX_BYTES = 1000
    ticket = _ticket(sd)
    customer = api_as(sd.customer_a_user)
    url = f"{BASE}{ticket.pk}/attachments/"
    too_big = customer.post(url, {"file": _upload("dump.txt", b"x" * 1001)}, format="multipart")
    assert too_big.status_code == 413
    assert _error(too_big)["code"] == "attachment_too_large"
    html = customer.post(url, {"file": _upload("page.html", b"<script>")}, format="multipart")
    assert html.status_code == 415
    assert _error(html)["code"] == "attachment_type_refused"
    assert Attachment.objects.count() == 0
    assert TicketEvent.objects.filter(kind="attachment").count() == 0
    ok = customer.post(url, {"file": _upload("报错截图.png", b"\x89PNG fake")}, format="multipart")
    assert ok.status_code == 201, ok.content
    attachment = Attachment.objects.get()
    assert attachment.content_type == "image/png"
    assert attachment.file.name.startswith(f"attachments/{sd.customer_a.pk}/")
    download = customer.get(ok.json()["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"\x89PNG fake"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment;")
    assert api_as(sd.customer_b_user).get(ok.json()["download_url"]).status_code == 404


def test_private_attachment_never_reaches_customer_users(sd: World) -> None:
    ticket = _ticket(sd)
    private = attachments.add_attachment(
        ticket, actor=sd.engineer_a, upload=_upload("内部.txt"), public=False
    )
    url = f"/api/v1/servicedesk/attachments/{private.pk}/download/"
    assert api_as(sd.engineer_a).get(url).status_code == 200
    assert api_as(sd.customer_a_user).get(url).status_code == 404
    assert api_as(sd.customer_a_admin).get(url).status_code == 404
    listed = api_as(sd.customer_a_admin).get(f"{BASE}{ticket.pk}/attachments/").json()
    assert listed["results"] == []
    customer_private = api_as(sd.customer_a_user).post(
        f"{BASE}{ticket.pk}/attachments/",
        {"file": _upload("a.txt"), "public": "false"},
        format="multipart",
    )
    assert customer_private.status_code == 403


def _resolve(sd: World, ticket: Ticket) -> None:
    services.transition(
        ticket, actor=sd.engineer_a, to="resolved", resolution_code="solved", resolution_note="ok"
    )


def test_rating_once_by_the_customer(sd: World) -> None:
    ticket = _ticket(sd)
    url = f"{BASE}{ticket.pk}/rate/"
    customer = api_as(sd.customer_a_user)
    assert customer.post(url, {"score": 5}, format="json").status_code == 409  # not resolved
    _resolve(sd, ticket)
    assert api_as(sd.engineer_a).post(url, {"score": 5}, format="json").status_code == 403
    assert customer.post(url, {"score": 6}, format="json").status_code == 400
    response = customer.post(url, {"score": 5, "comment": "很及时"}, format="json")
    assert response.status_code == 201
    again = customer.post(url, {"score": 1}, format="json")
    assert again.status_code == 409
    assert _error(again)["code"] == "already_rated"
    assert list(Rating.objects.values_list("score", "rated_by")) == [(5, sd.customer_a_user.pk)]


def test_rating_link_token(sd: World, settings: Any) -> None:
    ticket = _ticket(sd)
    _resolve(sd, ticket)
    token = ratings.make_token(ticket)
    url = "/api/v1/servicedesk/rating-links/"
    anonymous = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    forged = anonymous.post(url, {"token": token + "x", "score": 4}, format="json")
    assert forged.status_code == 400
    assert _error(forged)["code"] == "invalid_token"
    settings.OPSASSURE_RATING_LINK_DAYS = -1
    expired = anonymous.post(url, {"token": token, "score": 4}, format="json")
    assert expired.status_code == 400
    assert "expired" in _error(expired)["message"]
    settings.OPSASSURE_RATING_LINK_DAYS = 14
    ok = anonymous.post(url, {"token": token, "score": 4, "comment": "ok"}, format="json")
    assert ok.status_code == 201, ok.content
    rating = Rating.objects.get(ticket=ticket)
    assert (rating.score, rating.rated_by_id) == (4, sd.customer_a_user.pk)


def test_rating_token_of_an_earlier_resolution_stops_working(sd: World) -> None:
    ticket = _ticket(sd)
    _resolve(sd, ticket)
    token = ratings.make_token(ticket)
    services.transition(ticket, actor=sd.customer_a_user, to="reopened")
    ticket.refresh_from_db()
    _resolve(sd, ticket)
    with pytest.raises(Exception, match="not valid"):
        ratings.rate_with_token(token, score=3)


def test_sla_clocks_route_hides_ola_clocks_from_customers(sd: World, policy_a: Any) -> None:
    from opsassure.catalog.models import OlaTarget

    OlaTarget.objects.create(
        policy=policy_a, team=sd.team_a, priority=3, response_minutes=30, resolution_minutes=600
    )
    ticket = _ticket(sd, team=sd.team_a)
    assert SlaClock.objects.filter(ticket=ticket).count() == 5
    url = "/api/v1/servicedesk/sla-clocks/"
    staff = api_as(sd.engineer_a).get(url, {"ticket": ticket.pk}).json()["results"]
    customer = api_as(sd.customer_a_user).get(url, {"ticket": ticket.pk}).json()["results"]
    assert len(staff) == 5
    assert sorted(c["metric"] for c in customer) == ["arrival", "resolution", "response"]
    assert all(c["team"] is None for c in customer)
