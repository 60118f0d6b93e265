from __future__ import annotations

import itertools

import pytest
from django.db import connection, transaction
from typer.testing import CliRunner

from opsassure.cli import app as cli_app
from opsassure.core import audit
from opsassure.core.models import AuditEvent, Customer, Team
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.django_db


def _events(**filters: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("seq"))


def test_create_update_delete_are_recorded_with_field_diffs() -> None:
    customer = Customer.objects.create(code="C1", name="第一医院")
    customer = Customer.objects.get(pk=customer.pk)
    customer.name = "第一人民医院"
    customer.save()
    customer_id = customer.pk
    customer.delete()

    created, updated, deleted = _events(object_type="core.customer", object_id=str(customer_id))
    assert created.action == "create"
    assert created.changes["name"] == [None, "第一医院"]
    assert created.customer_id == customer_id
    assert updated.action == "update"
    assert updated.changes == {"name": ["第一医院", "第一人民医院"]}
    assert deleted.action == "delete"
    assert deleted.changes["code"] == ["C1", None]


def test_saving_without_changes_writes_no_event() -> None:
    customer = Customer.objects.create(code="C1", name="x")
    count = AuditEvent.objects.count()
    Customer.objects.get(pk=customer.pk).save()
    assert AuditEvent.objects.count() == count


def test_many_to_many_changes_are_recorded(world: World) -> None:
    world.team_a.members.add(world.manager)
    world.team_a.members.remove(world.manager)
    events = _events(object_type="core.team", object_id=str(world.team_a.pk), action="update")
    assert events[-2].changes == {"members": {"added": [str(world.manager)]}}
    assert events[-1].changes == {"members": {"removed": [str(world.manager)]}}


def test_rolled_back_change_leaves_no_event() -> None:
    count = AuditEvent.objects.count()

    def create_then_fail() -> None:
        with transaction.atomic():
            Customer.objects.create(code="C9", name="rolled back")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        create_then_fail()
    assert AuditEvent.objects.count() == count


def test_events_are_append_only() -> None:
    event = audit.record("export", object_type="x")
    event.action = "delete"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


def test_login_logout_and_failed_login_are_recorded(world: World, client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/login/", {"username": "manager", "password": "wrong"})
    assert response.status_code == 200
    failed = AuditEvent.objects.filter(action="login_failed").get()
    assert failed.actor_username == "manager"
    assert "wrong" not in str(failed.changes)
    client.post("/login/", {"username": "manager", "password": PASSWORD})
    login = AuditEvent.objects.filter(action="login").get()
    assert login.actor_id == world.manager.pk
    assert login.ip == "127.0.0.1"
    client.post("/logout/")
    assert AuditEvent.objects.filter(action="logout", actor_id=world.manager.pk).count() == 1


def test_api_changes_carry_actor_ip_and_request_id(world: World) -> None:
    from tests.conftest import api_as

    client = api_as(world.manager)
    response = client.post(
        "/api/v1/customers/",
        {"code": "NEW", "name": "新客户"},
        format="json",
        HTTP_X_REQUEST_ID="req-123",
    )
    assert response.status_code == 201
    event = AuditEvent.objects.get(
        object_type="core.customer", action="create", object_id=str(response.json()["id"])
    )
    assert (event.actor_username, event.request_id, event.ip) == ("manager", "req-123", "127.0.0.1")
    assert response["X-Request-ID"] == "req-123"


def test_permission_denial_is_recorded(world: World) -> None:
    from tests.conftest import api_as

    response = api_as(world.customer_a_user).post("/api/v1/customers/", {"code": "X", "name": "x"})
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="permission_denied")
    assert event.actor_id == world.customer_a_user.pk
    assert event.customer_id == world.customer_a.pk
    assert "/api/v1/customers/" in event.object_repr


def test_chain_verifies_and_detects_a_changed_row(world: World) -> None:
    assert audit.verify_chain().ok
    total = AuditEvent.objects.count()
    assert audit.verify_chain().checked == total
    victim = AuditEvent.objects.order_by("seq")[total // 2]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditevent SET actor_username = %s WHERE id = %s", ["mallory", victim.pk]
        )
    result = audit.verify_chain()
    assert not result.ok
    assert result.broken_seq == victim.seq
    assert result.checked == victim.seq - 1
    assert result.reason == "content does not match its hash"


def test_chain_detects_a_removed_row(world: World) -> None:
    victim = AuditEvent.objects.order_by("seq")[3]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [victim.pk])
    result = audit.verify_chain()
    assert result.broken_seq == victim.seq
    assert result.reason == f"event #{victim.seq} is missing"


def test_chain_detects_a_rehashed_row(world: World) -> None:
    # A forger who recomputes the row's own hash still breaks the next row's link.
    victim = AuditEvent.objects.order_by("seq")[2]
    victim.actor_username = "mallory"
    forged = audit.compute_hash(audit._hashed_fields(victim))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE core_auditevent SET actor_username = %s, hash = %s WHERE id = %s",
            ["mallory", forged, victim.pk],
        )
    result = audit.verify_chain()
    assert result.broken_seq == victim.seq + 1
    assert result.reason == "link to the previous event is broken"


def test_cli_audit_verify_exit_codes(world: World) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert f"{AuditEvent.objects.count()} events verified" in ok.output
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET object_repr = 'x' WHERE seq = 2")
    broken = runner.invoke(cli_app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "broken at event #2" in broken.output


def test_team_changes_by_service_are_audited_in_order(world: World) -> None:
    team = Team.objects.create(code="NEW", name="新组")
    seqs = [e.seq for e in _events(object_type="core.team", object_id=str(team.pk))]
    assert seqs == sorted(seqs)
    assert len(seqs) == 1


def test_client_ip_comes_from_the_trusted_proxy_only(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    from django.test import Client

    settings.BEHIND_PROXY = True
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    # The client claims 1.2.3.4; the proxy appended the real peer.
    Client(HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9").post(
        "/login/", {"username": "manager", "password": "bad"}
    )
    assert AuditEvent.objects.filter(action="login_failed").get().ip == "203.0.113.9"
    settings.BEHIND_PROXY = False
    Client(HTTP_X_FORWARDED_FOR="203.0.113.9").post(
        "/login/", {"username": "manager", "password": "bad"}
    )
    assert AuditEvent.objects.filter(action="login_failed").order_by("-seq")[0].ip == "127.0.0.1"


def test_record_many_extends_the_chain_in_order(world: World) -> None:
    audit.record("export", object_type="before")
    customer = Customer.objects.create(code="RM", name="批量")
    # after the customer's own events (its create, and its default SLA policy's rows)
    first_new = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True)[0] + 1
    pending = [
        audit.PendingEvent(
            action="create", object_type="x.item", object_id=str(i), changes={"n": i}
        )
        for i in range(5)
    ]
    pending.append(audit.PendingEvent.of("update", customer, {"name": ["a", "b"]}))
    context = audit.AuditContext(actor_id=world.manager.pk, actor_username="manager")
    with audit.audit_context(context):
        assert audit.record_many(pending, batch_size=2) == 6
    audit.record("export", object_type="after")
    events = list(AuditEvent.objects.filter(seq__gte=first_new).order_by("seq"))
    assert [e.seq for e in events] == list(range(first_new, first_new + 7))
    assert [e.object_id for e in events[:5]] == ["0", "1", "2", "3", "4"]
    assert (events[5].object_type, events[5].customer_id) == ("core.customer", customer.pk)
    assert {(e.actor_id, e.actor_username) for e in events[:6]} == {(world.manager.pk, "manager")}
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash
    assert events[6].object_type == "after"
    assert audit.verify_chain().ok


def test_record_many_of_nothing_writes_nothing(world: World) -> None:
    count = AuditEvent.objects.count()
    assert audit.record_many([]) == 0
    assert AuditEvent.objects.count() == count
    assert audit.verify_chain().ok


def test_record_many_is_rolled_back_with_its_transaction(world: World) -> None:
    count = AuditEvent.objects.count()

    def write_then_fail() -> None:
        with transaction.atomic():
            audit.record_many([audit.PendingEvent(action="create", object_type="x")])
            raise RuntimeError

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert AuditEvent.objects.count() == count
    audit.record("export", object_type="after rollback")
    assert audit.verify_chain().ok


def test_events_of_customer_owned_rows_carry_the_customer(world: World) -> None:
    from opsassure.core.models import CustomerContact

    contact = CustomerContact.objects.create(customer=world.customer_a, name="张三")
    event = AuditEvent.objects.get(object_type="core.customercontact", object_id=str(contact.pk))
    assert event.customer_id == world.customer_a.pk
    team_event = AuditEvent.objects.filter(object_type="core.team").first()
    assert team_event is not None
    assert team_event.customer_id is None  # provider-internal rows have no customer
