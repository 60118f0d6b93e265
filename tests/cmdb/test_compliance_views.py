"""Configuration audit pages: dashboard, "run audit now", findings list."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from opsassure.cmdb import compliance
from opsassure.cmdb.models import ConfigAuditRule, ConfigAuditRun, Relation
from opsassure.core.models import User
from tests.cmdb.audit_helpers import server
from tests.conftest import World

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.cmdb.urls_compliance_test")]


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _estate(world: World) -> None:
    ConfigAuditRule.objects.exclude(code__in=["has-relations", "unique-serial"]).update(
        is_enabled=False
    )
    a1 = server(world.customer_a, "a-one", serial_number="X")
    a2 = server(world.customer_a, "a-two", serial_number="X")
    server(world.customer_a, "a-lonely")
    Relation.objects.create(
        customer=world.customer_a, source=a1, target=a2, relation_type="depends_on"
    )
    server(world.customer_b, "b-lonely")


def test_dashboard_for_manager(world: World) -> None:
    _estate(world)
    first = compliance.run_audit()
    run = compliance.run_audit()
    orphan = ConfigAuditRule.objects.get(code="has-relations")

    response = _client(world.manager).get(reverse("cmdb:compliance"))

    assert response.status_code == 200
    html = response.content.decode()
    # A: has-rel 3/1, unique 3/2; B: has-rel 1/1, unique 1/0 -> 8 checks, 4 failed
    assert '<div class="h1 mb-0" data-testid="overall-compliance">50.00 %</div>' in html
    assert "Has at least one relation" in html
    findings = reverse("cmdb:audit-findings")
    assert f'href="{findings}?run={run.pk}&amp;rule={orphan.pk}">2</a>' in html
    assert "Customer A 医院" in html
    assert "Customer B 证券" in html
    assert 'data-testid="run-audit"' in html
    assert 'id="compliance-trend-values"' in html
    assert "vendor/echarts/echarts.min.js" in html
    assert "cmdb/compliance.js" in html
    assert response.context["chart_values"] == [50.0, 50.0]
    assert [p["run"] for p in response.context["summary"]["trend"]] == [first.pk, run.pk]


def test_dashboard_for_customer_admin_is_scoped(world: World) -> None:
    _estate(world)
    compliance.run_audit()

    response = _client(world.customer_a_admin).get(reverse("cmdb:compliance"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Customer A 医院" in html
    assert "Customer B 证券" not in html
    assert 'data-testid="run-audit"' not in html  # no cmdb.add_configauditrun
    assert '<div class="h1 mb-0" data-testid="overall-compliance">50.00 %</div>' in html


def test_dashboard_permissions_and_empty_state(world: World) -> None:
    assert _client(world.customer_a_user).get(reverse("cmdb:compliance")).status_code == 403
    response = _client(world.manager).get(reverse("cmdb:compliance"))
    assert response.status_code == 200
    assert 'data-testid="no-audit"' in response.content.decode()


def test_user_text_is_escaped(world: World) -> None:
    ConfigAuditRule.objects.update(is_enabled=False)
    ConfigAuditRule.objects.create(
        code="xss", name="<script>alert(1)</script>", kind="custom", failing_filter={"vendor": ""}
    )
    server(world.customer_a, "<b>srv</b>", vendor="")
    compliance.run_audit()

    dashboard = _client(world.manager).get(reverse("cmdb:compliance")).content.decode()
    findings = _client(world.manager).get(reverse("cmdb:audit-findings")).content.decode()

    assert "<script>alert(1)</script>" not in dashboard
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dashboard
    assert "<b>srv</b>" not in findings
    assert "&lt;b&gt;srv&lt;/b&gt;" in findings


def test_run_audit_now(world: World, django_capture_on_commit_callbacks: Any) -> None:
    server(world.customer_a, "s")
    url = reverse("cmdb:audit-run-now")

    with django_capture_on_commit_callbacks(execute=True):
        response = _client(world.manager).post(url)

    assert response.status_code == 302
    assert response["Location"] == reverse("cmdb:compliance")
    run = ConfigAuditRun.objects.get()
    assert (run.status, run.triggered_by, run.checked) == ("done", world.manager, 1)


def test_run_audit_now_refusals(world: World) -> None:
    url = reverse("cmdb:audit-run-now")
    assert _client(world.engineer_a).post(url).status_code == 403
    assert _client(world.customer_a_admin).post(url).status_code == 403
    assert _client(world.manager).get(url).status_code == 405
    assert ConfigAuditRun.objects.count() == 0


def test_run_audit_now_while_running_says_so(world: World) -> None:
    compliance.start_run()
    response = _client(world.manager).post(reverse("cmdb:audit-run-now"), follow=True)
    assert "is still running" in response.content.decode()
    assert ConfigAuditRun.objects.count() == 1


def test_findings_list_shows_the_latest_run_scoped(world: World) -> None:
    _estate(world)
    compliance.run_audit()
    latest = compliance.run_audit()
    serial = ConfigAuditRule.objects.get(code="unique-serial")
    url = reverse("cmdb:audit-findings")

    manager = _client(world.manager).get(url)
    customer = _client(world.customer_a_admin).get(url)
    filtered = _client(world.manager).get(url, {"run": latest.pk, "rule": serial.pk})

    assert manager.status_code == 200
    assert {f.run_id for f in manager.context["object_list"]} == {latest.pk}
    assert sorted(f.ci.name for f in manager.context["object_list"]) == [
        "a-lonely",
        "a-one",
        "a-two",
        "b-lonely",
    ]
    assert sorted(f.ci.name for f in customer.context["object_list"]) == [
        "a-lonely",
        "a-one",
        "a-two",
    ]
    assert "b-lonely" not in customer.content.decode()
    assert sorted(f.ci.name for f in filtered.context["object_list"]) == ["a-one", "a-two"]
    assert "same serial number as a-two" in filtered.content.decode()
    assert _client(world.customer_a_user).get(url).status_code == 403


def test_pages_do_not_grow_with_rows(world: World, django_assert_max_num_queries: Any) -> None:
    for index in range(40):
        server(world.customer_a, f"s{index}", serial_number="SAME")
    compliance.run_audit()
    client = _client(world.manager)
    with django_assert_max_num_queries(16):
        assert client.get(reverse("cmdb:compliance")).status_code == 200
    with django_assert_max_num_queries(16):
        response = client.get(reverse("cmdb:audit-findings"))
    assert response.status_code == 200
    assert len(response.context["object_list"]) == 50
