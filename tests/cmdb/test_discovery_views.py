"""Discovery UI: the open discrepancies page, Accept / Reject buttons, unknown devices."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from opsassure.cmdb import discovery as disc
from opsassure.cmdb.models import ConfigurationItem, Discrepancy
from opsassure.core.models import User
from tests.cmdb.helpers import make_agent, make_ci
from tests.conftest import World

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.cmdb.discovery_urls")]

PAGE = "/discovery-ui/discrepancies/"


def logged_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _observe(customer_ci: ConfigurationItem, agent: User, **facts: Any) -> None:
    disc.record_discovery(
        actor=agent,
        source="node-agent",
        facts={"serial_number": customer_ci.serial_number, **facts},
    )


@pytest.fixture
def scene(world: World) -> dict[str, Any]:
    ours = make_ci(world.customer_a, "a-db01", serial_number="SN-A", vendor="Huawei")
    theirs = make_ci(world.customer_b, "b-db01", serial_number="SN-B", vendor="Dell")
    agent_a, agent_b = make_agent(world.customer_a), make_agent(world.customer_b)
    _observe(ours, agent_a, vendor="<script>alert(1)</script>")
    _observe(theirs, agent_b, vendor="vendor-of-b")
    disc.record_discovery(actor=agent_a, source="scanner", facts={"hostname": "ghost-a"})
    disc.record_discovery(actor=agent_b, source="scanner", facts={"hostname": "ghost-b"})
    return {"ours": ours, "theirs": theirs}


def test_page_lists_only_visible_open_discrepancies_and_unknown_devices(
    world: World, scene: dict[str, Any]
) -> None:
    response = logged_in(world.engineer_a).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "a-db01" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "ghost-a" in html
    for marker in ("b-db01", "vendor-of-b", "ghost-b"):
        assert marker not in html
    ours = Discrepancy.objects.get(ci=scene["ours"])
    assert f'action="/discovery-ui/discrepancies/{ours.pk}/accept/"' in html
    assert f'action="/discovery-ui/discrepancies/{ours.pk}/reject/"' in html
    everything = logged_in(world.manager).get(PAGE).content.decode()
    assert "vendor-of-b" in everything
    assert "ghost-b" in everything


def test_read_only_roles_see_no_buttons_and_customers_no_page(
    world: World, scene: dict[str, Any]
) -> None:
    html = logged_in(world.auditor).get(PAGE).content.decode()
    assert "a-db01" in html
    assert "/accept/" not in html
    assert "/reject/" not in html
    assert logged_in(world.customer_a_admin).get(PAGE).status_code == 403


def test_accept_and_reject_buttons_decide(world: World, scene: dict[str, Any]) -> None:
    client = logged_in(world.engineer_a)
    ours = Discrepancy.objects.get(ci=scene["ours"])
    response = client.post(f"/discovery-ui/discrepancies/{ours.pk}/accept/", follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    assert "a-db01: vendor updated from discovery." in response.content.decode()
    scene["ours"].refresh_from_db()
    assert scene["ours"].vendor == "<script>alert(1)</script>"
    assert scene["ours"].changes.filter(source="discovery").count() == 1
    again = client.post(f"/discovery-ui/discrepancies/{ours.pk}/reject/", follow=True)
    assert "already decided" in again.content.decode()
    ours.refresh_from_db()
    assert ours.status == "accepted"

    _observe(scene["ours"], make_agent(world.customer_a), vendor="Inspur")
    newer = Discrepancy.objects.get(ci=scene["ours"], status="open")
    client.post(f"/discovery-ui/discrepancies/{newer.pk}/reject/")
    newer.refresh_from_db()
    scene["ours"].refresh_from_db()
    assert (newer.status, newer.decided_by_id) == ("rejected", world.engineer_a.pk)
    assert scene["ours"].vendor == "<script>alert(1)</script>"


def test_deciding_needs_permission_scope_and_post(world: World, scene: dict[str, Any]) -> None:
    ours = Discrepancy.objects.get(ci=scene["ours"])
    theirs = Discrepancy.objects.get(ci=scene["theirs"])
    url = "/discovery-ui/discrepancies/{}/{}/"
    assert logged_in(world.operator_a).post(url.format(ours.pk, "reject")).status_code == 403
    assert logged_in(world.auditor).post(url.format(ours.pk, "accept")).status_code == 403
    assert logged_in(world.engineer_a).get(url.format(ours.pk, "accept")).status_code == 405
    for action in ("accept", "reject"):
        code = logged_in(world.engineer_a).post(url.format(theirs.pk, action)).status_code
        assert code == 404
    assert Discrepancy.objects.filter(status="open").count() == 2
    scene["theirs"].refresh_from_db()
    assert scene["theirs"].vendor == "Dell"


def test_page_queries_do_not_grow_with_rows(
    world: World, scene: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    agent = make_agent(world.customer_a)
    for index in range(25):
        ci = make_ci(world.customer_a, f"host-{index}", serial_number=f"SN-{index}")
        _observe(ci, agent, vendor=f"v{index}")
        disc.record_discovery(actor=agent, source="scanner", facts={"hostname": f"u{index}"})
    client = logged_in(world.engineer_a)
    with django_assert_max_num_queries(12):
        response = client.get(PAGE)
    assert response.content.decode().count('<tr data-testid="discrepancy-') == 26
