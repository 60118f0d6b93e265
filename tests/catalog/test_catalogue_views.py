"""Service catalogue and SLA policy pages: tree, detail, forms with every problem, preview."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsassure.catalog import catalogue, sla_policies
from opsassure.catalog.models import (
    PriorityMatrixCell,
    Service,
    ServiceCalendar,
    SlaPolicy,
    SlaTarget,
)
from opsassure.core.models import AuditEvent
from tests.catalog.test_views import browser
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _tree(world: World) -> dict[str, Service]:
    his = catalogue.create_service(customer=world.customer_a, code="HIS", name="HIS 系统运维")
    db = catalogue.create_service(
        customer=world.customer_a, code="HIS-DB", name="HIS 数据库运维", parent=his
    )
    trade = catalogue.create_service(customer=world.customer_b, code="TRD", name="交易系统运维")
    return {"his": his, "db": db, "trade": trade}


def test_menu_tree_and_scope(world: World) -> None:
    tree = _tree(world)
    html = browser(world.customer_a_user).get("/catalog/services/").content.decode()
    assert 'href="/catalog/services/"' in html
    assert 'href="/catalog/sla-policies/"' in html
    assert re.search(r'data-depth="1">\s*<td>.*HIS 数据库运维', html)
    assert "交易系统运维" not in html
    assert "New service" not in html  # customers read only
    manager_html = browser(world.manager).get("/catalog/services/").content.decode()
    assert manager_html.count('data-testid="service-tree"') == 2
    assert "Standard SLA" in manager_html  # each customer's default policy in its header
    assert browser(world.outsider).get("/catalog/services/").status_code == 403
    assert (
        browser(world.customer_a_user).get(f"/catalog/services/{tree['trade'].pk}/").status_code
        == 404
    )


def test_tree_query_count_does_not_grow(world: World) -> None:
    tree = _tree(world)
    client = browser(world.manager)
    client.get("/catalog/services/")
    with CaptureQueriesContext(connection) as few:
        client.get("/catalog/services/")
    for i in range(15):
        catalogue.create_service(
            customer=world.customer_a, code=f"S{i}", name=f"s{i}", parent=tree["db"]
        )
    with CaptureQueriesContext(connection) as many:
        html = client.get("/catalog/services/").content.decode()
    assert html.count('data-depth="2"') == 15
    assert len(many) == len(few)


def test_service_detail_shows_breadcrumbs_children_and_effective_targets(world: World) -> None:
    tree = _tree(world)
    html = (
        browser(world.customer_a_user).get(f"/catalog/services/{tree['db'].pk}/").content.decode()
    )
    assert "HIS 系统运维</a>" in html  # breadcrumb to the parent
    assert "customer default" in html
    assert "<th>P1</th><td>15 min</td><td>2 h</td><td>4 h</td>" in html  # the default's P1
    assert "Owner team" not in html


def _service_post(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "customer": world.customer_a.pk,
        "code": "PACS",
        "name": "PACS 运维",
        "delivery_mode": "onsite",
        "is_active": "on",
        **extra,
    }


def test_service_form_creates_and_reports_every_problem(world: World) -> None:
    tree = _tree(world)
    client = browser(world.manager)
    response = client.post("/catalog/services/new/", _service_post(world, parent=tree["his"].pk))
    assert response.status_code == 302
    created = Service.objects.get(code="PACS")
    assert created.parent_id == tree["his"].pk
    before = (Service.objects.count(), AuditEvent.objects.count())
    response = client.post(
        "/catalog/services/new/",
        _service_post(world, parent=tree["trade"].pk, owner_team=world.team_b.pk),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "The parent service belongs to another customer." in html
    assert "This team does not serve the customer." in html
    assert "This customer already has a service with this code." in html
    assert (Service.objects.count(), AuditEvent.objects.count()) == before
    # editing: a cycle is refused on the page
    response = client.post(
        f"/catalog/services/{tree['his'].pk}/edit/",
        _service_post(world, code="HIS", name="HIS", parent=tree["db"].pk),
    )
    assert response.status_code == 400
    assert "cannot be placed below itself" in response.content.decode()


def test_service_delete_with_children_is_refused(world: World) -> None:
    tree = _tree(world)
    client = browser(world.manager)
    response = client.post(f"/catalog/services/{tree['his'].pk}/delete/", follow=True)
    assert "has sub-services" in response.content.decode()
    assert Service.objects.filter(pk=tree["his"].pk).exists()
    assert (
        browser(world.engineer_a).post(f"/catalog/services/{tree['db'].pk}/delete/").status_code
        == 403
    )


def test_policy_list_and_detail(world: World, calendars: dict[str, ServiceCalendar]) -> None:
    policy = SlaPolicy.objects.get(customer=world.customer_a, is_default=True)
    html = browser(world.customer_a_user).get("/catalog/sla-policies/").content.decode()
    assert f'href="/catalog/sla-policies/{policy.pk}/"' in html
    assert "missing 2099 — plain weekdays" in html  # the fixture's 5×8 lacks 2099
    html = (
        browser(world.customer_a_user).get(f"/catalog/sla-policies/{policy.pk}/").content.decode()
    )
    cells = re.findall(r'data-priority="(\d)">P\d</td>', html)
    assert cells == ["1", "2", "3", "2", "3", "4", "3", "4", "4"]
    assert 'data-testid="coverage-warning"' in html
    assert "no public holiday data for 2099" in html
    assert "40 h" in html  # P4 resolution
    assert "OLA targets" not in html  # internal


def test_policy_preview_on_the_page(world: World, calendars: dict[str, ServiceCalendar]) -> None:
    policy = SlaPolicy.objects.get(customer=world.customer_a, is_default=True)
    url = f"/catalog/sla-policies/{policy.pk}/"
    html = (
        browser(world.manager)
        .get(url, {"start": "2026-09-30T17:55", "priority": 1})
        .content.decode()
    )
    result = html[html.index('data-testid="preview-result"') :]
    assert "2026-10-08 08:10" in result  # response, after the National Day week
    html = (
        browser(world.manager)
        .get(url, {"start": "2099-01-01T09:00", "priority": 4})
        .content.decode()
    )
    assert "No public holiday data for 2099: plain weekdays were used." in html
    html = browser(world.manager).get(url, {"start": "yesterday", "priority": 9}).content.decode()
    assert "A date and time" in html


def _policy_post(world: World, calendar: ServiceCalendar, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "customer": world.customer_a.pk,
        "code": "core",
        "name": "核心系统 7×24",
        "calendar": calendar.pk,
        "warn_percent_first": 75,
        "warn_percent_second": 90,
        "is_active": "on",
    }
    for (impact, urgency), priority in sla_policies.DEFAULT_MATRIX.items():
        data[f"matrix_{impact}_{urgency}"] = priority
    for priority, (response, arrival, resolution) in sla_policies.DEFAULT_TARGETS.items():
        data[f"target_{priority}_response"] = f"{response} min"
        data[f"target_{priority}_arrival"] = "" if arrival is None else f"{arrival // 60} h"
        data[f"target_{priority}_resolution"] = f"{resolution // 60}h"
    data.update(extra)
    return data


def test_policy_form_creates_a_policy(world: World, calendars: dict[str, ServiceCalendar]) -> None:
    response = browser(world.manager).post(
        "/catalog/sla-policies/new/",
        _policy_post(
            world,
            calendars["7x24"],
            matrix_2_1=1,
            target_1_response="10",
            ola_0_team=world.team_a.pk,
            ola_0_priority=1,
            ola_0_response="5 min",
            ola_0_resolution="1h30",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    policy = SlaPolicy.objects.get(code="core")
    assert policy.matrix.get(impact=2, urgency=1).priority == 1
    p1 = policy.targets.get(priority=1)
    assert (p1.response_minutes, p1.arrival_minutes, p1.resolution_minutes) == (10, 120, 240)
    assert policy.targets.get(priority=4).arrival_minutes is None
    ola = policy.ola_targets.get()
    assert (ola.team_id, ola.response_minutes, ola.resolution_minutes) == (world.team_a.pk, 5, 90)
    html = browser(world.manager).get(policy.get_absolute_url()).content.decode()
    assert "1 h 30 min" in html


def test_policy_form_lists_every_problem_and_writes_nothing(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    client = browser(world.manager)
    counts = (
        SlaPolicy.objects.count(),
        PriorityMatrixCell.objects.count(),
        SlaTarget.objects.count(),
    )
    before_events = AuditEvent.objects.count()
    response = client.post(
        "/catalog/sla-policies/new/",
        _policy_post(
            world,
            calendars["5x8"],
            code="default",
            warn_percent_first=95,
            warn_percent_second=80,
            target_2_response="2 h",
            target_2_resolution="1 h",
            target_3_response="",
            target_3_arrival="",
            target_3_resolution="",
        ),
    )
    assert response.status_code == 400
    html = response.content.decode()
    start = html.index('data-testid="form-errors"')
    errors = html[start : html.index("</ul>", start)]
    assert "This customer already has a policy with this code." in errors
    assert "The second warning must not come before the first (95 % &gt; 80 %)." in errors
    assert "P2: the resolution target must not be shorter than the response target." in errors
    assert "P3 is used by the priority matrix but has no targets." in errors
    assert counts == (
        SlaPolicy.objects.count(),
        PriorityMatrixCell.objects.count(),
        SlaTarget.objects.count(),
    )
    assert AuditEvent.objects.count() == before_events
    response = client.post(
        "/catalog/sla-policies/new/",
        _policy_post(world, calendars["5x8"], target_1_response="soon"),
    )
    assert response.status_code == 400
    assert "Hours and minutes, e.g. 30 min, 4 h or 1 h 30 min." in response.content.decode()


def test_policy_edit_keeps_ola_rows_for_customer_editors(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    """A customer user never sees the OLA rows, so their edit leaves them alone."""
    from django.contrib.auth.models import Group, Permission

    policy = sla_policies.create_policy(
        customer=world.customer_a,
        code="core",
        name="core",
        calendar=calendars["7x24"],
        ola_targets=[sla_policies.OlaEntry(team=world.team_a, priority=1, response_minutes=5)],
    )
    group = Group.objects.create(name="policy-editors")
    group.permissions.set(
        Permission.objects.filter(codename__in=["view_slapolicy", "change_slapolicy"])
    )
    world.customer_a_admin.groups.add(group)
    client = browser(world.fresh(world.customer_a_admin))
    form_html = client.get(f"/catalog/sla-policies/{policy.pk}/edit/").content.decode()
    assert "OLA" not in form_html
    response = client.post(
        f"/catalog/sla-policies/{policy.pk}/edit/",
        _policy_post(world, calendars["7x24"], name="核心 renamed"),
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.name == "核心 renamed"
    assert policy.ola_targets.count() == 1
