"""CMDB forms: create/edit CIs, bulk edit, relations, CI types."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from opsassure.cmdb import services
from opsassure.cmdb.builtin import seed_builtins
from opsassure.cmdb.models import CIChange, CIType, ConfigurationItem, Relation, Tag
from tests.cmdb.ui import LIST, browser, htmx, make
from tests.conftest import World

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _builtin_types(db: None) -> None:
    seed_builtins()


def _create_payload(world: World, **overrides: Any) -> dict[str, Any]:
    payload = {
        "customer": world.customer_a.pk,
        "ci_type": CIType.objects.get(code="database").pk,
        "name": "his-db",
        "status": "in_use",
        "environment": "production",
        "criticality": "2",
        "hostname": "db-01",
        "primary_ip": "10.2.0.5",
        "ip_addresses": "10.2.0.5\n10.2.0.6",
        "tags": "核心系统, 等保三级",
        "attr__engine": "达梦 DM",
        "attr__version": "8",
        "attr__port": "5236",
        "warranty_end": "2027-06-30",
        "cost": "12000.50",
    }
    payload.update(overrides)
    return payload


def test_create_ci_with_schema_attributes(world: World) -> None:
    client = browser(world.engineer_a)
    form = client.get("/cmdb/cis/new/?type=database")
    assert form.status_code == 200
    html = form.content.decode()
    assert 'name="attr__engine"' in html
    assert '<option value="达梦 DM">达梦 DM</option>' in html
    assert '<input type="number" name="attr__port"' in html
    response = client.post("/cmdb/cis/new/", _create_payload(world))
    ci = ConfigurationItem.objects.get(name="his-db")
    assert response.status_code == 302
    assert response["Location"] == f"/cmdb/cis/{ci.pk}/"
    assert ci.customer_id == world.customer_a.pk
    assert ci.attributes == {"engine": "达梦 DM", "version": "8", "port": 5236}
    assert sorted(ci.addresses.values_list("address", flat=True)) == ["10.2.0.5", "10.2.0.6"]
    assert sorted(ci.tags.values_list("name", flat=True)) == ["核心系统", "等保三级"]
    assert str(ci.cost) == "12000.50"
    assert ci.warranty_end == dt.date(2027, 6, 30)
    assert ci.created_by_id == world.engineer_a.pk
    change = ci.changes.get()
    assert (change.kind, change.source, change.actor_id) == ("created", "ui", world.engineer_a.pk)


def test_create_with_invalid_attributes_shows_errors_and_writes_nothing(world: World) -> None:
    client = browser(world.engineer_a)
    response = client.post(
        "/cmdb/cis/new/",
        _create_payload(world, attr__engine="", attr__port="abc", primary_ip="10.2.0.999"),
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"attr__engine", "attr__port", "primary_ip"}
    assert 'data-testid="form-errors"' in response.content.decode()
    assert ConfigurationItem.objects.count() == 0
    assert CIChange.objects.count() == 0
    assert Tag.objects.count() == 0


def test_service_errors_land_on_the_form(world: World) -> None:
    make(world.customer_a, "his-db", "database", attributes={"engine": "MySQL"})
    client = browser(world.manager)
    changes = CIChange.objects.count()
    response = client.post("/cmdb/cis/new/", _create_payload(world))
    assert response.status_code == 400
    assert list(response.context["form"].non_field_errors()) == [
        "Configuration item with this Customer and Name already exists."
    ]
    assert ConfigurationItem.objects.filter(name="his-db").count() == 1
    assert CIChange.objects.count() == changes
    assert Tag.objects.count() == 0


def test_changing_the_type_swaps_the_attribute_fields(world: World) -> None:
    client = htmx(world.engineer_a)
    middleware = CIType.objects.get(code="middleware")
    html = client.get(f"/cmdb/cis/attribute-fields/?ci_type={middleware.pk}").content.decode()
    assert 'id="attribute-fields"' in html
    assert 'name="attr__product"' in html
    assert "东方通 TongWeb" in html
    assert "attr__engine" not in html
    vm = make(world.customer_a, "vm-x", "virtual_machine", attributes={"cpu_count": 8})
    server = CIType.objects.get(code="server")
    kept = client.get(f"/cmdb/cis/attribute-fields/?ci_type={server.pk}&ci={vm.pk}")
    assert 'name="attr__cpu_count" value="8"' in kept.content.decode()
    b_ci = make(world.customer_b, "b-only")
    assert (
        client.get(f"/cmdb/cis/attribute-fields/?ci_type={server.pk}&ci={b_ci.pk}").status_code
        == 404
    )


def _edit_payload(ci: ConfigurationItem, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "ci_type": ci.ci_type_id,
        "name": ci.name,
        "status": ci.status,
        "environment": ci.environment,
        "criticality": str(ci.criticality),
        "hostname": ci.hostname,
        "primary_ip": ci.primary_ip or "",
        "ip_addresses": "\n".join(ci.addresses.values_list("address", flat=True)),
        "tags": "",
    }
    for spec in ci.ci_type.attribute_schema:
        value = ci.attributes.get(spec["name"])
        payload[f"attr__{spec['name']}"] = "" if value is None else str(value)
    payload.update(overrides)
    return payload


def test_edit_offers_only_allowed_moves_and_refuses_others(world: World) -> None:
    ci = make(world.customer_a, "srv-1", hostname="s1", ip_addresses=["10.3.0.1"])
    client = browser(world.engineer_a)
    form_html = client.get(f"/cmdb/cis/{ci.pk}/edit/").content.decode()
    status_select = form_html.split('name="status"')[1].split("</select>")[0]
    offered = re.findall(r'<option value="([a-z_]+)"', status_select)
    assert sorted(offered) == ["in_stock", "in_use", "maintenance", "retired"]
    changes_before = CIChange.objects.filter(ci=ci).count()
    response = client.post(f"/cmdb/cis/{ci.pk}/edit/", _edit_payload(ci, status="disposed"))
    assert response.status_code == 400
    assert response.context["form"].errors["status"] == [
        "Cannot move from In use to Disposed. Allowed: In stock, Under maintenance, Retired."
    ]
    ci.refresh_from_db()
    assert ci.status == "in_use"
    assert CIChange.objects.filter(ci=ci).count() == changes_before
    ok = client.post(f"/cmdb/cis/{ci.pk}/edit/", _edit_payload(ci, status="maintenance"))
    assert ok.status_code == 302
    ci.refresh_from_db()
    assert ci.status == "maintenance"
    latest = CIChange.objects.filter(ci=ci).first()
    assert latest is not None
    assert latest.changes == {"status": ["in_use", "maintenance"]}


def test_bulk_edit_is_all_or_nothing(world: World) -> None:
    live = make(world.customer_a, "live-1")
    gone = make(world.customer_a, "gone-1", status="disposed")
    gone_too = make(world.customer_a, "gone-2", status="disposed")
    client = browser(world.engineer_a)
    changes_before = CIChange.objects.count()
    response = client.post(
        "/cmdb/cis/bulk-edit/",
        {"ids": [live.pk, gone.pk, gone_too.pk], "status": "in_stock", "querystring": "q=1"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="bulk-errors"' in html
    # Every refused CI is listed, not only the first.
    assert "<strong>gone-1</strong>: Cannot move from Disposed to In stock. Allowed: none." in html
    assert "<strong>gone-2</strong>: Cannot move from Disposed to In stock. Allowed: none." in html
    assert "live-1</strong>" not in html
    assert [ci.status for ci in ConfigurationItem.objects.order_by("name")] == [
        "disposed",
        "disposed",
        "in_use",
    ]
    assert CIChange.objects.count() == changes_before
    # The service itself refuses all or nothing too (a CI changed between check and write).
    with pytest.raises(ValidationError):
        services.bulk_update([live, gone], actor=world.engineer_a, status="in_stock")
    live.refresh_from_db()
    assert live.status == "in_use"
    assert CIChange.objects.count() == changes_before
    ok = client.post(
        "/cmdb/cis/bulk-edit/",
        {
            "ids": [live.pk, gone.pk],
            "add_tags": "巡检, 信创",
            "owner_team": world.team_a.pk,
            "querystring": "q=-1&sort=name",
        },
    )
    assert ok.status_code == 302
    assert ok["Location"] == f"{LIST}?q=-1&sort=name"
    for ci in (live, gone):
        ci.refresh_from_db()
        assert sorted(ci.tags.values_list("name", flat=True)) == ["信创", "巡检"]
        assert ci.owner_team_id == world.team_a.pk
    removed = client.post(
        "/cmdb/cis/bulk-edit/", {"ids": [live.pk], "remove_tags": "信创", "querystring": ""}
    )
    assert removed.status_code == 302
    assert list(live.tags.values_list("name", flat=True)) == ["巡检"]


def test_bulk_edit_refuses_empty_and_foreign_selections(world: World) -> None:
    ours = make(world.customer_a, "ours")
    theirs = make(world.customer_b, "theirs")
    client = browser(world.engineer_a)
    nothing = client.post("/cmdb/cis/bulk-edit/", {"ids": [ours.pk], "querystring": ""})
    assert nothing.status_code == 400
    assert "Choose at least one change to apply." in nothing.content.decode()
    none_selected = client.post("/cmdb/cis/bulk-edit/", {"status": "retired", "querystring": ""})
    assert none_selected.status_code == 400
    foreign = client.post(
        "/cmdb/cis/bulk-edit/", {"ids": [ours.pk, theirs.pk], "status": "retired"}
    )
    assert foreign.status_code == 404
    assert set(ConfigurationItem.objects.values_list("status", flat=True)) == {"in_use"}
    too_many = client.post(
        "/cmdb/cis/bulk-edit/", {"ids": list(range(1, 1003)), "status": "retired"}
    )
    assert too_many.status_code == 400
    assert "At most 1000 CIs at once." in too_many.content.decode()
    # Only a re-encoded query string goes back into the Location header.
    odd = client.post(
        "/cmdb/cis/bulk-edit/",
        {"ids": [ours.pk], "add_tags": "x", "querystring": "q=a b&x=\r\nSet-Cookie: y=1"},
    )
    assert odd.status_code == 302
    assert odd["Location"] == f"{LIST}?q=a+b&x=%0D%0ASet-Cookie%3A+y%3D1"
    operator = browser(world.operator_a).post(
        "/cmdb/cis/bulk-edit/", {"ids": [ours.pk], "status": "retired"}
    )
    assert operator.status_code == 403


def test_add_and_remove_relation_through_the_page(world: World) -> None:
    app = make(world.customer_a, "app-1", "application")
    vm = make(world.customer_a, "vm-1", "virtual_machine")
    client = htmx(world.engineer_a)
    targets = client.get(f"/cmdb/cis/{app.pk}/relation-targets/?q=vm").content.decode()
    assert f'<option value="{vm.pk}">vm-1' in targets
    response = client.post(
        f"/cmdb/cis/{app.pk}/relations/",
        {"direction": "outgoing", "relation_type": "runs_on", "other": vm.pk, "note": "prod"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('\n<div class="card" id="relations-card"')
    assert html.count('data-testid="relation-outgoing"') == 1
    relation = Relation.objects.get()
    assert (relation.source_id, relation.target_id, relation.relation_type, relation.note) == (
        app.pk,
        vm.pk,
        "runs_on",
        "prod",
    )
    # The reverse would be a cycle: the service refuses, the card says why, nothing is written.
    cycle = client.post(
        f"/cmdb/cis/{app.pk}/relations/",
        {"direction": "incoming", "relation_type": "runs_on", "other": vm.pk},
    )
    assert cycle.status_code == 400
    assert "This relation would create a cycle." in cycle.content.decode()
    assert Relation.objects.count() == 1
    deleted = client.post(f"/cmdb/relations/{relation.pk}/delete/", {"ci": vm.pk})
    assert deleted.status_code == 200
    assert 'data-testid="relation-incoming"' not in deleted.content.decode()
    assert Relation.objects.count() == 0
    assert list(CIChange.objects.filter(ci=app).values_list("kind", flat=True).order_by("id")) == [
        "created",
        "relation_added",
        "relation_removed",
    ]


def test_relation_without_htmx_redirects_and_errors_render_the_page(world: World) -> None:
    app = make(world.customer_a, "app-1", "application")
    vm = make(world.customer_a, "vm-1", "virtual_machine")
    client = browser(world.engineer_a)
    ok = client.post(
        f"/cmdb/cis/{app.pk}/relations/",
        {"direction": "outgoing", "relation_type": "runs_on", "other": vm.pk},
    )
    assert ok.status_code == 302
    assert ok["Location"] == f"/cmdb/cis/{app.pk}/#relations"
    duplicate = client.post(
        f"/cmdb/cis/{app.pk}/relations/",
        {"direction": "outgoing", "relation_type": "runs_on", "other": vm.pk},
    )
    assert duplicate.status_code == 400
    assert "This relation already exists." in duplicate.content.decode()
    assert Relation.objects.count() == 1


def test_relation_across_customers_is_refused(world: World) -> None:
    a_app = make(world.customer_a, "a-app", "application")
    b_vm = make(world.customer_b, "b-vm", "virtual_machine")
    shared = make(None, "shared-dns", "virtual_machine")
    client = htmx(world.manager)  # sees every customer
    targets = client.get(f"/cmdb/cis/{a_app.pk}/relation-targets/").content.decode()
    assert "shared-dns" in targets
    assert "b-vm" not in targets
    refused = client.post(
        f"/cmdb/cis/{a_app.pk}/relations/",
        {"direction": "outgoing", "relation_type": "runs_on", "other": b_vm.pk},
    )
    assert refused.status_code == 400
    assert "Choose a CI from the search results." in refused.content.decode()
    assert Relation.objects.count() == 0
    # From the shared CI's page every CI is offered; the service refuses the wrong direction.
    wrong_way = client.post(
        f"/cmdb/cis/{shared.pk}/relations/",
        {"direction": "outgoing", "relation_type": "depends_on", "other": b_vm.pk},
    )
    assert wrong_way.status_code == 400
    assert "A relation cannot cross customers" in wrong_way.content.decode()
    assert Relation.objects.count() == 0
    allowed = client.post(
        f"/cmdb/cis/{a_app.pk}/relations/",
        {"direction": "outgoing", "relation_type": "depends_on", "other": shared.pk},
    )
    assert allowed.status_code == 200
    assert Relation.objects.count() == 1


def test_relation_pages_are_scoped(world: World) -> None:
    b_app = make(world.customer_b, "b-app", "application")
    b_vm = make(world.customer_b, "b-vm", "virtual_machine")
    relation = services.add_relation(actor=None, source=b_app, target=b_vm, relation_type="runs_on")
    a_app = make(world.customer_a, "a-app", "application")
    client = htmx(world.engineer_a)
    assert client.get(f"/cmdb/cis/{b_app.pk}/relations/").status_code == 404
    assert client.get(f"/cmdb/cis/{b_app.pk}/relation-targets/").status_code == 404
    assert (
        client.post(f"/cmdb/relations/{relation.pk}/delete/", {"ci": b_app.pk}).status_code == 404
    )
    refused = client.post(
        f"/cmdb/cis/{a_app.pk}/relations/",
        {"direction": "outgoing", "relation_type": "runs_on", "other": b_vm.pk},
    )
    assert refused.status_code == 400
    assert Relation.objects.count() == 1
    operator = htmx(world.operator_a).post(
        f"/cmdb/cis/{a_app.pk}/relations/",
        {"direction": "outgoing", "relation_type": "runs_on", "other": a_app.pk},
    )
    assert operator.status_code == 403


def test_customer_admin_creates_only_for_their_customer(world: World) -> None:
    from django.contrib.auth.models import Permission

    admin = world.customer_a_admin
    admin.user_permissions.add(Permission.objects.get(codename="add_configurationitem"))
    client = browser(world.fresh(admin))
    form = client.get("/cmdb/cis/new/").content.decode()
    assert "Shared provider CI (no customer)" not in form
    assert "Customer B" not in form
    foreign = client.post("/cmdb/cis/new/", _create_payload(world, customer=world.customer_b.pk))
    assert foreign.status_code == 400
    assert set(foreign.context["form"].errors) == {"customer"}
    shared = client.post("/cmdb/cis/new/", _create_payload(world, customer=""))
    assert shared.status_code == 400
    assert ConfigurationItem.objects.count() == 0


SCHEMA = (
    '[{"name": "rack_count", "label": "Racks / 机柜数", "kind": "integer", "required": true},'
    ' {"name": "tier", "kind": "choice", "choices": ["T3", "T4"]}]'
)


def test_manager_creates_a_custom_type_with_a_schema(world: World) -> None:
    client = browser(world.manager)
    page = client.get("/cmdb/types/").content.decode()
    assert "Business service" in page
    assert "Service hours / 服务时间" in page
    response = client.post(
        "/cmdb/types/new/",
        {
            "code": "idc",
            "name": "IDC 机房",
            "icon": "building-factory",
            "sort_order": "200",
            "attribute_schema": SCHEMA,
            "required_fields": ["location"],
        },
    )
    assert response.status_code == 302
    created = CIType.objects.get(code="idc")
    assert created.attribute_schema[0] == {
        "name": "rack_count",
        "label": "Racks / 机柜数",
        "kind": "integer",
        "required": True,
    }
    assert created.required_fields == ["location"]
    assert not created.is_builtin
    fields = client.get(f"/cmdb/cis/attribute-fields/?ci_type={created.pk}").content.decode()
    assert '<label class="form-label required" for="id_attr__rack_count">Racks / 机柜数<' in fields
    edit = client.post(
        f"/cmdb/types/{created.pk}/edit/",
        {
            "code": "changed",
            "name": "IDC",
            "icon": "building",
            "sort_order": "5",
            "attribute_schema": "[]",
        },
    )
    assert edit.status_code == 302
    created.refresh_from_db()
    assert (created.code, created.name, created.attribute_schema) == ("idc", "IDC", [])


def test_schema_editor_reports_clear_errors_and_saves_nothing(world: World) -> None:
    client = browser(world.manager)
    count = CIType.objects.count()
    broken = client.post(
        "/cmdb/types/new/",
        {
            "code": "idc",
            "name": "IDC",
            "icon": "building",
            "sort_order": "1",
            "attribute_schema": '[{"name": "a",}]',
        },
    )
    assert broken.status_code == 400
    assert broken.context["form"].errors["attribute_schema"] == [
        "Not valid JSON: Expecting property name enclosed in double quotes (line 1, column 15)."
    ]
    invalid = client.post(
        "/cmdb/types/new/",
        {
            "code": "idc",
            "name": "IDC",
            "icon": "bad icon!",
            "sort_order": "1",
            "attribute_schema": '[{"name": "Bad"}, {"name": "x", "kind": "colour"}]',
        },
    )
    assert invalid.status_code == 400
    errors = invalid.context["form"].errors
    assert errors["attribute_schema"] == [
        "Attribute 1: name must be lower-case letters, digits and '_'.",
        "Attribute 2: unknown kind 'colour'.",
    ]
    assert errors["icon"] == ["Lower-case letters, digits and '-' only."]
    assert CIType.objects.count() == count
    builtin = CIType.objects.get(code="server")
    assert client.get(f"/cmdb/types/{builtin.pk}/edit/").status_code == 302
    assert browser(world.engineer_a).get("/cmdb/types/new/").status_code == 403
    assert browser(world.engineer_a).get("/cmdb/types/").status_code == 200


def test_staff_choose_a_customer_or_shared_explicitly(world: World) -> None:
    client = browser(world.manager)
    missing = client.post("/cmdb/cis/new/", _create_payload(world, customer=""))
    assert missing.status_code == 400
    assert missing.context["form"].errors["customer"] == ["This field is required."]
    shared = client.post("/cmdb/cis/new/", _create_payload(world, customer="shared"))
    assert shared.status_code == 302
    ci = ConfigurationItem.objects.get()
    assert ci.customer_id is None
    # Engineers see shared CIs; customer users never do.
    assert browser(world.engineer_a).get(f"/cmdb/cis/{ci.pk}/").status_code == 200
    assert browser(world.customer_a_user).get(f"/cmdb/cis/{ci.pk}/").status_code == 404


def test_relation_picker_keeps_the_chosen_ci(world: World) -> None:
    app = make(world.customer_a, "app-1", "application")
    vm = make(world.customer_a, "vm-1", "virtual_machine")
    make(world.customer_a, "db-1", "database", attributes={"engine": "MySQL"})
    b_vm = make(world.customer_b, "b-vm", "virtual_machine")
    client = htmx(world.manager)
    url = f"/cmdb/cis/{app.pk}/relation-targets/"
    html = client.get(url, {"q": "db-", "other": vm.pk}).content.decode()
    assert re.findall(r'<option value="(\d+)"( selected)?>', html) == [
        (str(vm.pk), " selected"),
        (str(ConfigurationItem.objects.get(name="db-1").pk), ""),
    ]
    # A foreign CI cannot be smuggled in as "chosen".
    foreign = client.get(url, {"q": "zzz", "other": b_vm.pk}).content.decode()
    assert "b-vm" not in foreign
    assert "No matching CI" in foreign
    detail = browser(world.manager).get(f"/cmdb/cis/{app.pk}/").content.decode()
    # The CI page lets HTMX show 400 answers (refused relation, bad date) in place.
    assert '{"code": "400", "swap": true}' in detail


def test_type_list_shows_readable_schemas(world: World) -> None:
    html = browser(world.customer_a_user).get("/cmdb/types/").content.decode()
    assert 'Engine / 数据库类型 <span class="text-secondary">· Choice</span>' in html
    assert 'Port / 端口 <span class="text-secondary">· Integer</span>' in html
    assert "Serial number, Vendor, Model, Hostname" in html
    assert "/cmdb/types/new/" not in html
