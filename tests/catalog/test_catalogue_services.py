"""Catalogue and policy services below the API: durations, the migration, the tree walk."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from opsassure.catalog import catalogue, policies
from opsassure.catalog.models import Service, ServiceCalendar, SlaPolicy
from opsassure.catalog.presentation import format_duration, parse_duration
from opsassure.core.models import AuditEvent, Customer
from tests.conftest import World


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("90", 90),
        ("90 min", 90),
        ("4h", 240),
        ("4 h", 240),
        ("1h30", 90),
        ("1 h 30 min", 90),
        ("1.5 h", 90),
        ("4 小时", 240),
        ("2 hours", 120),
        ("", None),
        ("  ", None),
    ],
)
def test_parse_duration(text: str, minutes: int | None) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize("text", ["soon", "1.5", "h", "-5", "4 days"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r".*"):
        parse_duration(text)


def test_format_duration() -> None:
    assert [format_duration(m) for m in (None, 15, 60, 90, 2400)] == [
        "",
        "15 min",
        "1 h",
        "1 h 30 min",
        "40 h",
    ]


@pytest.mark.django_db
def test_migration_gives_existing_customers_a_default(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    SlaPolicy.objects.filter(customer=world.customer_a).delete()
    other = policies.ensure_default_policy(world.customer_b)
    migration = importlib.import_module(
        "opsassure.catalog.migrations.0003_sd_catalog_default_policies"
    )
    migration.forwards(apps, None)
    created = SlaPolicy.objects.get(customer=world.customer_a)
    assert (created.code, created.is_default, created.calendar.code) == ("default", True, "5x8")
    assert created.matrix.count() == 9
    assert created.targets.count() == 4
    assert SlaPolicy.objects.get(customer=world.customer_b).pk == other.pk  # untouched


@pytest.mark.django_db
def test_default_policy_code_does_not_clash(
    world: World, calendars: dict[str, ServiceCalendar]
) -> None:
    policy = SlaPolicy.objects.get(customer=world.customer_a, is_default=True)
    SlaPolicy.objects.filter(pk=policy.pk).update(is_default=False)
    again = policies.ensure_default_policy(world.customer_a)
    assert again.pk != policy.pk
    assert again.code == "default-2"


@pytest.mark.django_db
def test_fixture_loading_does_not_create_policies(world: World) -> None:
    from opsassure.catalog.hooks import give_new_customer_a_default_policy

    (customer,) = Customer.objects.bulk_create([Customer(code="RAW", name="raw")])
    count = AuditEvent.objects.count()
    give_new_customer_a_default_policy(Customer, customer, created=True, raw=True)
    assert not SlaPolicy.objects.filter(customer=customer).exists()
    assert AuditEvent.objects.count() == count


@pytest.mark.django_db
def test_empty_customer_can_still_be_deleted(world: World) -> None:
    customer = Customer.objects.create(code="GONE", name="gone")
    customer.delete()
    assert not SlaPolicy.objects.filter(customer_id=customer.pk).exists()


@pytest.mark.django_db
def test_tree_rows_depth_first_and_orphans_as_roots(world: World) -> None:
    root = catalogue.create_service(customer=world.customer_a, code="A", name="a")
    child = catalogue.create_service(customer=world.customer_a, code="A1", name="a1", parent=root)
    catalogue.create_service(customer=world.customer_a, code="A2", name="a2", parent=root)
    grandchild = catalogue.create_service(
        customer=world.customer_a, code="A11", name="a11", parent=child
    )
    catalogue.create_service(customer=world.customer_a, code="B", name="b")
    rows = catalogue.tree_rows(Service.objects.all())
    assert [(r.service.code, r.depth) for r in rows] == [
        ("A", 0),
        ("A1", 1),
        ("A11", 2),
        ("A2", 1),
        ("B", 0),
    ]
    # a filtered list (parent not included) shows the child as a root
    rows = catalogue.tree_rows(Service.objects.filter(pk=grandchild.pk))
    assert [(r.service.code, r.depth, r.path) for r in rows] == [("A11", 0, ("a11",))]


@pytest.mark.django_db
def test_depth_limit(world: World) -> None:
    parent = None
    for level in range(catalogue.MAX_DEPTH):
        parent = catalogue.create_service(
            customer=world.customer_a, code=f"L{level}", name=f"l{level}", parent=parent
        )
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        catalogue.create_service(customer=world.customer_a, code="TOO", name="deep", parent=parent)
    assert error.value.message_dict == {"parent": ["The tree would be deeper than 6 levels."]}
