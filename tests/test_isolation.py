"""Tenant isolation, tested generically over every registered API route and UI list.

For each route the test makes a sample owned by customer B and one owned by customer A, then
acts as several customer-A personas. Two of them hold *every* permission except
"see all customers", so only the tenant scope stands between them and B's data. They must
find A's sample (the positive control that keeps this test honest) and never B's: not in a
list, not by id (404), not by changing or deleting it (and the row stays as it was).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.forms.models import model_to_dict
from rest_framework.test import APIClient

import opsassure.urls  # noqa: F401  (imports every app's api/urls.py: fills the router)
from opsassure.core.api.router import router
from opsassure.core.models import User
from opsassure.core.ui import nav
from tests.conftest import World, api_as, make_user
from tests.factories import FACTORIES, Sample

pytestmark = pytest.mark.django_db


def _power_group() -> Group:
    group = Group.objects.create(name="test-everything-but-all-customers")
    group.permissions.set(Permission.objects.exclude(codename="access_all_customers"))
    return group


def _personas(world: World) -> dict[str, tuple[User, bool]]:
    """name -> (user, holds every permission)."""
    power = _power_group()
    power_customer = make_user("power_customer_a", None, customer=world.customer_a)
    power_staff = make_user("power_staff_a", None, teams=[world.team_a])
    for user in (power_customer, power_staff):
        user.groups.add(power)
    return {
        "power customer A": (User.objects.get(pk=power_customer.pk), True),
        "power staff (team A)": (User.objects.get(pk=power_staff.pk), True),
        "customer A admin": (world.customer_a_admin, False),
        "customer A user": (world.customer_a_user, False),
        "engineer (team A)": (world.engineer_a, False),
        "outsider": (world.outsider, False),
    }


def _routes() -> list[tuple[str, Any]]:
    return [(prefix, viewset) for prefix, viewset, _basename in router.registry]


def _snapshot(sample: Sample) -> dict[str, Any] | None:
    model = type(sample.obj)
    row = model._default_manager.filter(pk=sample.obj.pk).first()
    return None if row is None else model_to_dict(row)


def _listed_ids(client: APIClient, url: str) -> tuple[int, set[Any]]:
    ids: set[Any] = set()
    response = client.get(url)
    if response.status_code != 200:
        return response.status_code, ids
    for _page in range(100):
        body = response.json()
        items = body["results"] if isinstance(body, dict) and "results" in body else body
        ids.update(item.get("id") for item in items if isinstance(item, dict))
        next_url = body.get("next") if isinstance(body, dict) else None
        if not next_url:
            break
        response = client.get(next_url)
        assert response.status_code == 200
    return 200, ids


def test_every_registered_model_has_a_factory() -> None:
    models = {viewset.queryset.model for _prefix, viewset in _routes()}
    models |= {item.model for item in nav.list_items()}
    missing = sorted(m._meta.label for m in models if m not in FACTORIES)
    assert missing == [], f"add these models to tests/factories.py: {missing}"


@pytest.mark.parametrize(("prefix", "viewset"), _routes(), ids=[p for p, _ in _routes()])
def test_api_route_never_shows_or_changes_another_customers_rows(
    world: World, prefix: str, viewset: Any
) -> None:
    model = viewset.queryset.model
    factory = FACTORIES[model]
    theirs = factory(world, world.customer_b)
    ours = factory(world, world.customer_a)
    before = _snapshot(theirs)
    base = f"/api/v1/{prefix}/"
    methods = {m.lower() for m in viewset.http_method_names}
    for name, (user, powerful) in _personas(world).items():
        if theirs.provider_visible and user.customer_id is None:
            continue
        client = api_as(user)
        positive = (
            powerful
            and not ours.personal
            and not (ours.provider_visible and user.customer_id is not None)
        )
        if not hasattr(viewset, "list"):
            # Action-only routes (e.g. exports): check what their collection GETs return.
            _check_collection_actions(client, base, viewset, theirs, ours, name, positive)
        else:
            status, ids = _listed_ids(client, base)
            if theirs.shared:
                # Shared vocabulary (CI types, tags): readable by all, by design — check that.
                assert not powerful or theirs.obj.pk in ids, f"{name} must read shared {base}"
                continue
            assert theirs.obj.pk not in ids, f"{name} lists B's {model.__name__} at {base}"
            if positive:
                assert status == 200, f"{name}: {base} -> {status}"
                assert ours.obj.pk in ids, f"positive control: {name} must list A's row at {base}"
        detail = f"{base}{theirs.obj.pk}/"
        expected = {404} if powerful else {403, 404}
        assert client.get(detail).status_code in expected, f"{name} GET {detail}"
        if "patch" in methods:
            code = client.patch(detail, {"name": "pwned"}, format="json").status_code
            assert code in expected | {405}, f"{name} PATCH {detail} -> {code}"
        if "put" in methods:
            code = client.put(detail, {"name": "pwned"}, format="json").status_code
            assert code in expected | {405}, f"{name} PUT {detail} -> {code}"
        if "delete" in methods:
            code = client.delete(detail).status_code
            assert code in expected | {405}, f"{name} DELETE {detail} -> {code}"
        for extra in viewset.get_extra_actions():
            if not extra.detail:
                continue
            url = f"{detail}{extra.url_path}/"
            for method in extra.mapping:
                code = getattr(client, method)(url, {}, format="json").status_code
                assert code in expected | {405}, f"{name} {method} {url} -> {code}"
    assert _snapshot(theirs) == before, f"B's {model.__name__} changed"


def _check_collection_actions(
    client: APIClient,
    base: str,
    viewset: Any,
    theirs: Sample,
    ours: Sample,
    name: str,
    positive: bool,
) -> None:
    for extra in viewset.get_extra_actions():
        if extra.detail or "get" not in extra.mapping:
            continue
        url = f"{base}{extra.url_path}/"
        response = client.get(url)
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        body = raw.decode("utf-8", errors="replace")
        assert theirs.marker not in body, f"{name} gets B's row from {url}"
        if positive:
            assert response.status_code == 200, f"{name}: {url} -> {response.status_code}"
            assert ours.marker in body, f"positive control: {name} must get A's row from {url}"


def _ui_items() -> list[Any]:
    return nav.list_items()


@pytest.mark.parametrize("item", _ui_items(), ids=[i.url_name for i in _ui_items()])
def test_ui_list_never_shows_another_customers_rows(world: World, item: Any) -> None:
    factory = FACTORIES[item.model]
    theirs = factory(world, world.customer_b)
    ours = factory(world, world.customer_a)
    for name, (user, powerful) in _personas(world).items():
        if theirs.provider_visible and user.customer_id is None:
            continue
        client = api_as(user)
        response = client.get(item.url, {"page_size": 500})
        assert response.status_code in {200, 403}, f"{name} {item.url}"
        html = response.content.decode()
        if theirs.shared:
            # Shared vocabulary (CI types, tags): readable by all, by design — check exactly that.
            assert not powerful or theirs.marker in html, f"{name} must read shared {item.url}"
            continue
        assert theirs.marker not in html, f"{name} sees B's {item.model.__name__} on {item.url}"
        # Nothing of B anywhere on the page: not in rows, filters, drop-downs or counters.
        assert world.customer_b.name not in html, f"{name} sees customer B's name on {item.url}"
        if (
            powerful
            and not ours.personal
            and not (ours.provider_visible and user.customer_id is not None)
        ):
            assert response.status_code == 200
            assert ours.marker in html, f"positive control: {name} must see A's row"
        absolute = getattr(theirs.obj, "get_absolute_url", None)
        if absolute is not None:
            code = client.get(absolute()).status_code
            assert code in ({404} if powerful else {403, 404}), f"{name} GET {absolute()}"
