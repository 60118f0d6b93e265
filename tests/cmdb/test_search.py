"""The CI search box and list filters: indexed shapes, same answers on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from opsassure.cmdb.models import ConfigurationItem
from tests.conftest import World, api_as

MakeCI = Callable[..., ConfigurationItem]


@pytest.fixture
def estate(world: World, make_ci: MakeCI) -> None:
    make_ci(world.customer_a, "门诊挂号 Outpatient registration", "business_service",
            attributes={"service_hours": "7×24"})  # fmt: skip
    make_ci(world.customer_a, "HIS-app01", hostname="his-app01.jch.local",
            ip_addresses=["10.1.1.1", "10.9.9.9"])  # fmt: skip
    make_ci(world.customer_a, "web01", hostname="WEB01", ip_addresses=["10.1.1.2"])
    make_ci(world.customer_a, "pacs-srv01", "server", serial_number="2102313LNS", status="retired")
    make_ci(world.customer_a, "ups-1", "power_cooling", asset_tag="JCH-ZC-0031",
            attributes={"equipment": "UPS"}, status="maintenance")  # fmt: skip
    make_ci(world.customer_b, "his-b", hostname="his-b", ip_addresses=["10.9.9.9"])


def _names(world: World, **params: Any) -> list[str]:
    response = api_as(world.engineer_a).get("/api/v1/cmdb/cis/", params)
    assert response.status_code == 200, response.content
    body = response.json()
    names = [row["name"] for row in body["results"]]
    assert body["count"] == len(names)  # the count agrees with the rows (no duplicates)
    return names


@pytest.mark.usefixtures("estate")
def test_prefix_of_name_hostname_serial_or_asset_tag_case_insensitive(world: World) -> None:
    assert _names(world, q="his") == ["HIS-app01"]  # customer B's his-b is out of scope
    assert _names(world, q="HIS-APP") == ["HIS-app01"]
    assert _names(world, q="web01") == ["web01"]  # hostname stored in capitals
    assert _names(world, q="2102313") == ["pacs-srv01"]
    assert _names(world, q="jch-zc") == ["ups-1"]
    assert _names(world, q="nothing-like-this") == []


@pytest.mark.usefixtures("estate")
def test_many_prefix_matches_give_the_same_answers(
    world: World, make_ci: MakeCI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond PREFIX_ID_LIMIT matches the search switches from literal ids to a subquery."""
    from opsassure.cmdb import filtersets

    for n in range(4):
        make_ci(world.customer_a, f"his-db{n}")
    expected = ["his-db0", "his-db1", "his-db2", "his-db3", "HIS-app01"]
    assert sorted(_names(world, q="his")) == sorted(expected)
    monkeypatch.setattr(filtersets, "PREFIX_ID_LIMIT", 2)
    assert sorted(_names(world, q="his")) == sorted(expected)
    assert _names(world, q="HIS-APP") == ["HIS-app01"]  # one match: still the literal path
    assert _names(world, q="Outpatient") == ["门诊挂号 Outpatient registration"]


@pytest.mark.usefixtures("estate")
def test_words_inside_names_when_nothing_starts_with_them(world: World) -> None:
    assert _names(world, q="Outpatient") == ["门诊挂号 Outpatient registration"]
    assert _names(world, q="app01") == ["HIS-app01"]
    assert _names(world, q="挂号") == ["门诊挂号 Outpatient registration"]
    # A prefix match wins: "web" starts web01, so names merely containing it are not added.
    assert _names(world, q="web") == ["web01"]


@pytest.mark.usefixtures("estate")
def test_ip_search_finds_primary_and_secondary_addresses_once(world: World) -> None:
    assert _names(world, q="10.1.1.1") == ["HIS-app01"]
    assert _names(world, q="10.9.9.9") == ["HIS-app01"]  # a second address; B's copy hidden
    assert _names(world, q=" 10.1.1.2 ") == ["web01"]
    assert _names(world, q="10.1.1.99") == []


@pytest.mark.usefixtures("estate")
def test_status_filter_with_several_values_and_environment(world: World) -> None:
    assert _names(world, status=["retired", "maintenance"]) == ["pacs-srv01", "ups-1"]
    assert _names(world, status="in_use", environment="production") == [
        "HIS-app01",
        "web01",
        "门诊挂号 Outpatient registration",
    ]
    assert _names(world, status="in_use", environment="dr") == []


def test_list_and_search_indexes_exist(db: None) -> None:
    with connection.cursor() as cursor:
        indexes = set(
            connection.introspection.get_constraints(cursor, ConfigurationItem._meta.db_table)
        )
    assert {
        "cmdb_ci_name_id_idx",
        "cmdb_ci_status_env_name_idx",
        "cmdb_ci_name_ci_prefix_idx",
        "cmdb_ci_hostname_ci_prefix_idx",
        "cmdb_ci_serial_ci_prefix_idx",
        "cmdb_ci_asset_tag_ci_prefix_idx",
    } <= indexes
