"""CMDB pages: the CI list, the CI page (graph, relations, history, as of), tenant scope."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from opsassure.cmdb import services
from opsassure.cmdb.builtin import seed_builtins
from opsassure.cmdb.models import CIChange, ConfigurationItem
from tests.cmdb.ui import LIST, browser, htmx, listed, make
from tests.conftest import World

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _builtin_types(db: None) -> None:
    seed_builtins()


@pytest.fixture
def fleet(world: World) -> dict[str, ConfigurationItem]:
    today = timezone.localdate()
    a_web = make(
        world.customer_a,
        "a-web",
        hostname="web-01",
        ip_addresses=["10.0.0.1", "10.9.9.9"],
        serial_number="SN-AAA-1",
        asset_tag="AT-0001",
        criticality=1,
        owner_team=world.team_a,
        warranty_end=today + dt.timedelta(days=10),
        tags=["核心系统"],
    )
    a_vm = make(
        world.customer_a,
        "a-vm",
        "virtual_machine",
        hostname="vm-01",
        status="maintenance",
        environment="test",
        criticality=3,
        warranty_end=today + dt.timedelta(days=200),
    )
    b_srv = make(
        world.customer_b,
        "b-srv",
        hostname="b-01",
        ip_addresses=["10.1.0.1"],
        criticality=2,
        owner_team=world.team_b,
        warranty_end=today + dt.timedelta(days=60),
    )
    shared = make(
        None,
        "core-switch",
        "network_device",
        criticality=4,
        warranty_end=today + dt.timedelta(days=400),
    )
    return {"a_web": a_web, "a_vm": a_vm, "b_srv": b_srv, "shared": shared}


def test_each_list_filter_narrows_exactly(world: World, fleet: dict[str, Any]) -> None:
    client = browser(world.manager)
    assert listed(client) == ["a-vm", "a-web", "b-srv", "core-switch"]
    cases = {
        "ci_type=server": ["a-web", "b-srv"],
        "status=maintenance": ["a-vm"],
        "status=maintenance&status=in_use": ["a-vm", "a-web", "b-srv", "core-switch"],
        f"customer={world.customer_a.pk}": ["a-vm", "a-web"],
        "environment=test": ["a-vm"],
        "criticality=1": ["a-web"],
        "tag=核心系统": ["a-web"],
        "owner_team=TB": ["b-srv"],
        "warranty_ends_within=30": ["a-web"],
        "warranty_ends_within=90": ["a-web", "b-srv"],
        "q=vm-0": ["a-vm"],
        "ci_type=server&customer=" + str(world.customer_b.pk): ["b-srv"],
    }
    for query, expected in cases.items():
        assert listed(client, query) == expected, query


def test_search_by_any_ip_serial_and_asset_tag(world: World, fleet: dict[str, Any]) -> None:
    client = browser(world.manager)
    assert listed(client, "q=10.0.0.1") == ["a-web"]
    assert listed(client, "q=10.9.9.9") == ["a-web"]  # a secondary address
    assert listed(client, "q=10.1.0.1") == ["b-srv"]
    assert listed(client, "q=SN-AAA") == ["a-web"]
    assert listed(client, "q=AT-0001") == ["a-web"]
    assert listed(client, "q=nothing-like-this") == []


def test_an_invalid_filter_shows_nothing_and_says_why(world: World, fleet: dict[str, Any]) -> None:
    response = browser(world.manager).get(f"{LIST}?ci_type=no-such-type")
    assert response.status_code == 200
    assert list(response.context["cis"]) == []
    assert "Select a valid choice" in response.content.decode()


def test_sort_columns_and_pagination(world: World, fleet: dict[str, Any]) -> None:
    client = browser(world.manager)
    assert listed(client, "sort=-name") == ["core-switch", "b-srv", "a-web", "a-vm"]
    assert listed(client, "sort=criticality") == ["a-web", "b-srv", "a-vm", "core-switch"]
    assert listed(client, "sort=-criticality") == ["core-switch", "a-vm", "b-srv", "a-web"]
    assert listed(client, "sort=warranty_end") == ["a-web", "b-srv", "a-vm", "core-switch"]
    assert listed(client, "sort=-warranty_end") == ["core-switch", "a-vm", "b-srv", "a-web"]
    # CIs without a warranty date come last in both directions
    ConfigurationItem.objects.filter(name="b-srv").update(warranty_end=None)
    assert listed(client, "sort=warranty_end") == ["a-web", "a-vm", "core-switch", "b-srv"]
    assert listed(client, "sort=-warranty_end") == ["core-switch", "a-vm", "a-web", "b-srv"]
    # server (built-in order 40) < virtual machine (50) < network device (70)
    assert listed(client, "sort=type") == ["a-web", "b-srv", "a-vm", "core-switch"]
    assert listed(client, "sort=status&status=in_use") == ["a-web", "b-srv", "core-switch"]
    assert listed(client, "sort=bogus") == ["a-vm", "a-web", "b-srv", "core-switch"]
    page = client.get(f"{LIST}?sort=-name&page_size=10")
    html = page.content.decode()
    # The header link toggles the direction and keeps the other parameters.
    assert 'href="?page_size=10&amp;sort=name"' in html
    for index in range(12):
        make(world.customer_a, f"bulk-{index:02d}")
    names = listed(client, "q=bulk-&page_size=10&page=2")
    assert names == ["bulk-10", "bulk-11"]


def test_the_list_counts_at_most_a_cap(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from opsassure.cmdb.views import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "cap", 12)
    for index in range(15):
        make(world.customer_a, f"ci-{index:02d}")
    client = browser(world.manager)
    html = client.get(f"{LIST}?page_size=10").content.decode()
    assert "1–10 of more than 12 (narrow the filter to see the rest)" in html
    page_two = client.get(f"{LIST}?page_size=10&page=2")
    assert [ci.name for ci in page_two.context["cis"]] == [f"ci-{i:02d}" for i in range(10, 15)]
    assert "11–15 of more than 12" in page_two.content.decode()
    assert "page=3" not in page_two.content.decode()
    assert client.get(f"{LIST}?page_size=10&page=0").status_code == 404
    exact = client.get(f"{LIST}?page_size=10&q=ci-0").content.decode()
    assert "1–10 of 10<" in exact


def test_warranty_highlight(world: World, fleet: dict[str, Any]) -> None:
    make(
        world.customer_a,
        "a-old",
        warranty_end=timezone.localdate() - dt.timedelta(days=3),
    )
    html = browser(world.manager).get(f"{LIST}?customer={world.customer_a.pk}").content.decode()
    assert html.count('data-testid="warranty-soon"') == 1  # a-web, 10 days left
    assert html.count('data-testid="warranty-expired"') == 1  # a-old


def test_expiring_warranties_entry_is_the_prefiltered_list(
    world: World, fleet: dict[str, Any]
) -> None:
    client = browser(world.manager)
    response = client.get("/cmdb/cis/expiring/")
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?warranty_ends_within=90&sort=warranty_end"
    assert listed(client, "warranty_ends_within=90&sort=warranty_end") == ["a-web", "b-srv"]


def _list_queries(client: Client, django_assert_max_num_queries: Any, bound: int) -> int:
    with django_assert_max_num_queries(bound) as context:
        response = client.get(LIST)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_list_query_count_does_not_grow_with_rows(
    world: World, django_assert_max_num_queries: Any
) -> None:
    client = browser(world.manager)
    for index in range(5):
        make(world.customer_a, f"few-{index}", owner_team=world.team_a, tags=["t1", "t2"])
    few = _list_queries(client, django_assert_max_num_queries, 15)
    for index in range(45):
        make(world.customer_b, f"many-{index}", owner_team=world.team_b, tags=["t1"])
    many = _list_queries(client, django_assert_max_num_queries, 15)
    assert ConfigurationItem.objects.count() == 50
    assert many == few


@pytest.mark.parametrize("fan_in", [2, 20])
def test_detail_query_count_does_not_grow_with_relations_and_history(
    world: World, django_assert_max_num_queries: Any, fan_in: int
) -> None:
    root = make(world.customer_a, "root", "virtual_machine", owner_team=world.team_a)
    for index in range(fan_in):
        app = make(world.customer_a, f"app-{index}", "application")
        services.add_relation(actor=world.manager, source=app, target=root, relation_type="runs_on")
        team = world.team_b if index % 2 else world.team_a
        services.update_ci(root, actor=world.manager, hostname=f"h{index}", owner_team=team)
    client = browser(world.manager)
    with django_assert_max_num_queries(22):
        response = client.get(f"/cmdb/cis/{root.pk}/")
    assert response.content.decode().count('data-testid="relation-incoming"') == fan_in


@pytest.fixture
def stack(world: World) -> dict[str, Any]:
    """HIS service → app → vm → server (customer A), and the app depends on a shared CI."""
    service = make(
        world.customer_a, "HIS 门诊", "business_service", attributes={"service_hours": "7×24"}
    )
    app = make(world.customer_a, "his-app", "application", attributes={"version": "3.2"})
    vm = make(world.customer_a, "his-vm", "virtual_machine", attributes={"cpu_count": 16})
    server = make(
        world.customer_a,
        "esx-01",
        attributes={"cpu_count": 64, "memory_gb": 512, "os": "ESXi 8"},
        serial_number="SRV-1",
        vendor="Inspur",
    )
    shared = make(None, "jump-host", "virtual_machine")
    rel = services.add_relation
    rel(actor=None, source=service, target=app, relation_type="depends_on")
    rel(actor=None, source=app, target=vm, relation_type="runs_on")
    rel(actor=None, source=server, target=vm, relation_type="hosts")
    rel(actor=None, source=app, target=shared, relation_type="depends_on")
    return {"service": service, "app": app, "vm": vm, "server": server, "shared": shared}


def test_detail_shows_attributes_relations_impact_and_history(
    world: World, stack: dict[str, Any]
) -> None:
    server = stack["server"]
    response = browser(world.manager).get(f"/cmdb/cis/{server.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="ci-name">esx-01<' in html
    # Type attributes with the labels of the schema.
    assert 'CPU cores / CPU 核数</div><div class="datagrid-content">64<' in html
    assert 'Memory (GB) / 内存</div><div class="datagrid-content">512<' in html
    assert "SRV-1" in html
    # Relations: server hosts vm (outgoing).
    assert html.count('data-testid="relation-outgoing"') == 1
    assert html.count('data-testid="relation-incoming"') == 0
    assert f'href="/cmdb/cis/{stack["vm"].pk}/">his-vm</a>' in html
    # Impact graph container fed by the API, and the business service that fails with it.
    assert 'id="impact-graph"' in html
    assert f'data-url="/api/v1/cmdb/cis/{server.pk}/impact/"' in html
    services_html = html.split('data-testid="affected-services"')[1].split("</div>")[0]
    assert "HIS 门诊" in services_html
    # History: created, then the relation.
    assert html.count('data-testid="history-entry"') == 2
    assert "Relation added" in html
    assert "Tickets will appear here once the service desk is installed." in html
    # The graph's API answers the session of the page.
    api = browser(world.manager).get(
        f"/api/v1/cmdb/cis/{server.pk}/impact/?direction=downstream&depth=3"
    )
    assert api.status_code == 200
    assert {n["name"] for n in api.json()["nodes"]} == {"esx-01", "his-vm", "his-app", "HIS 门诊"}


def test_incoming_relations_and_shared_targets_on_the_detail(
    world: World, stack: dict[str, Any]
) -> None:
    html = browser(world.manager).get(f"/cmdb/cis/{stack['app'].pk}/").content.decode()
    assert html.count('data-testid="relation-outgoing"') == 2  # runs on vm, depends on jump-host
    assert html.count('data-testid="relation-incoming"') == 1  # the service depends on it
    # A customer user does not see the shared provider CI, not even as a relation end.
    customer_html = browser(world.customer_a_user).get(f"/cmdb/cis/{stack['app'].pk}/")
    assert customer_html.status_code == 200
    text = customer_html.content.decode()
    assert text.count('data-testid="relation-outgoing"') == 1
    assert "jump-host" not in text.split('data-testid="history"')[0]


def test_history_renders_field_diffs_readably(world: World, stack: dict[str, Any]) -> None:
    server = stack["server"]
    services.update_ci(
        server,
        actor=world.manager,
        status="maintenance",
        owner_team=world.team_a,
        attributes={"cpu_count": 96, "memory_gb": 512, "os": "ESXi 8"},
        tags=["信创"],
    )
    html = browser(world.manager).get(f"/cmdb/cis/{server.pk}/").content.decode()
    entry = html.split('data-testid="history-entry"')[1]
    assert "Updated" in entry
    assert "Manager" in entry or "manager" in entry
    assert re.search(r"In use</span>\s*<i[^>]*></i>\s*<span[^>]*>Under maintenance<", entry)
    assert re.search(r"—</span>\s*<i[^>]*></i>\s*<span[^>]*>Team A<", entry)
    assert re.search(r"64</span>\s*<i[^>]*></i>\s*<span[^>]*>96<", entry)
    assert "CPU cores / CPU 核数" in entry
    assert "+ 信创" in entry


def test_history_pages_load_older_changes(world: World, stack: dict[str, Any]) -> None:
    vm = stack["vm"]
    for index in range(30):
        services.update_ci(vm, actor=None, hostname=f"vm-{index}")
    client = browser(world.manager)
    html = client.get(f"/cmdb/cis/{vm.pk}/").content.decode()
    assert html.count('data-testid="history-entry"') == 25
    assert f"/cmdb/cis/{vm.pk}/history/?page=2" in html
    more = client.get(f"/cmdb/cis/{vm.pk}/history/?page=2").content.decode()
    # 30 updates + created + 2 relations (runs_on, hosts) = 33 → 8 on page 2.
    assert more.count('data-testid="history-entry"') == 8
    assert "history/?page=3" not in more


def test_as_of_panel_shows_the_past(world: World, stack: dict[str, Any]) -> None:
    vm = stack["vm"]
    before_creation = vm.created_at - dt.timedelta(minutes=5)
    CIChange.objects.filter(ci=vm).update(at=timezone.now() - dt.timedelta(hours=2))
    services.update_ci(vm, actor=None, hostname="renamed-vm")
    client = htmx(world.manager)
    zone = timezone.get_current_timezone()
    moment = (timezone.now() - dt.timedelta(hours=1)).astimezone(zone)
    response = client.get(f"/cmdb/cis/{vm.pk}/as-of/?at={moment:%Y-%m-%dT%H:%M}")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="as-of-result"' in html
    assert "renamed-vm" not in html
    assert '<dt class="col-5">vCPU</dt><dd class="col-7">16</dd>' in html
    long_ago = before_creation.astimezone(zone) - dt.timedelta(hours=3)
    gone = client.get(f"/cmdb/cis/{vm.pk}/as-of/?at={long_ago:%Y-%m-%dT%H:%M}")
    assert "The CI did not exist at that time." in gone.content.decode()
    bad = client.get(f"/cmdb/cis/{vm.pk}/as-of/?at=yesterday")
    assert bad.status_code == 400
    page = browser(world.manager).get(f"/cmdb/cis/{vm.pk}/as-of/?at={moment:%Y-%m-%dT%H:%M}")
    assert page.status_code == 200
    assert "<html" in page.content.decode()


def test_customer_user_sees_only_their_cis(world: World, fleet: dict[str, Any]) -> None:
    client = browser(world.customer_a_user)
    assert listed(client) == ["a-vm", "a-web"]
    assert listed(client, "q=10.1.0.1") == []
    assert client.get(f"/cmdb/cis/{fleet['a_web'].pk}/").status_code == 200
    for other in ("b_srv", "shared"):
        pk = fleet[other].pk
        assert client.get(f"/cmdb/cis/{pk}/").status_code == 404
        assert client.get(f"/cmdb/cis/{pk}/history/").status_code in {403, 404}
        assert client.get(f"/cmdb/cis/{pk}/as-of/?at=2030-01-01T00:00").status_code in {403, 404}
    # Read-only roles: no forms.
    assert client.get("/cmdb/cis/new/").status_code == 403
    assert client.get(f"/cmdb/cis/{fleet['a_web'].pk}/edit/").status_code == 403
    html = client.get(LIST).content.decode()
    assert "/cmdb/cis/new/" not in html
    assert 'id="bulk-form"' not in html
    # The engineer of team A sees A's and shared CIs, not B's; B's CI is a 404 even to edit.
    engineer = browser(world.engineer_a)
    assert listed(engineer) == ["a-vm", "a-web", "core-switch"]
    assert engineer.get(f"/cmdb/cis/{fleet['b_srv'].pk}/").status_code == 404
    assert engineer.get(f"/cmdb/cis/{fleet['b_srv'].pk}/edit/").status_code == 404
    assert engineer.post(f"/cmdb/cis/{fleet['b_srv'].pk}/edit/", {}).status_code == 404


def test_names_are_escaped(world: World) -> None:
    evil = "<script>alert(1)</script>"
    ci = make(world.customer_a, evil, "application", attributes={"version": "<b>1</b>"})
    other = make(world.customer_a, "plain", "virtual_machine")
    services.add_relation(actor=None, source=ci, target=other, relation_type="runs_on")
    client = browser(world.manager)
    for url in (LIST, f"/cmdb/cis/{ci.pk}/", f"/cmdb/cis/{other.pk}/", f"/cmdb/cis/{ci.pk}/edit/"):
        html = client.get(url).content.decode()
        assert evil not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
    detail = client.get(f"/cmdb/cis/{ci.pk}/").content.decode()
    assert "<b>1</b>" not in detail
    assert "&lt;b&gt;1&lt;/b&gt;" in detail


def test_menu_lists_the_cmdb_pages(world: World) -> None:
    html = browser(world.manager).get("/").content.decode()
    assert 'href="/cmdb/cis/"' in html
    assert 'href="/cmdb/types/"' in html
    assert 'href="/cmdb/cis/expiring/"' in html
    assert "Configuration (CMDB)" in html
    outsider = browser(world.outsider).get("/").content.decode()
    assert "/cmdb/cis/" not in outsider
