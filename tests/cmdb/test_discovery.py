"""Discovery reconciliation: matching, discrepancies, decisions, payload limits, tenancy."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from opsassure.cmdb import discovery as disc
from opsassure.cmdb.models import CIChange, ConfigurationItem, Discovery, Discrepancy
from opsassure.core import services as core_services
from opsassure.core.models import AuditEvent, User
from tests.cmdb.helpers import bearer, make_agent, make_ci
from tests.conftest import World, api_as

pytestmark = pytest.mark.django_db

URL = "/api/v1/cmdb/discoveries/"


def _record(actor: User, facts: dict[str, Any], **kwargs: Any) -> Discovery:
    return disc.record_discovery(actor=actor, source="agent", facts=facts, **kwargs)


def _open(ci: ConfigurationItem) -> dict[str, tuple[Any, Any]]:
    rows = Discrepancy.objects.filter(ci=ci, status="open")
    return {d.field: (d.recorded_value, d.observed_value) for d in rows}


def _server(world: World, name: str = "db01", **values: Any) -> ConfigurationItem:
    defaults: dict[str, Any] = {
        "hostname": "db01",
        "serial_number": "SN-100",
        "vendor": "Huawei",
        "model": "2288H V5",
        "attributes": {"os": "CentOS 7", "cpu_count": 16},
        "ip_addresses": ("10.0.0.5",),
    }
    defaults.update(values)
    return make_ci(world.customer_a, name, **defaults)


# --- Matching ----------------------------------------------------------------------------------


def test_matching_order_is_serial_then_hostname_then_any_ip(world: World) -> None:
    agent = make_agent(world.customer_a)
    by_serial = make_ci(world.customer_a, "s1", serial_number="SN-1", hostname="other")
    by_host = make_ci(world.customer_a, "h1", hostname="web01", ip_addresses=("10.1.0.2",))
    by_ip = make_ci(world.customer_a, "i1", ip_addresses=("10.1.0.9", "10.1.0.10"))
    everything = {"serial_number": "SN-1", "hostname": "web01", "ip_addresses": ["10.1.0.9"]}

    first = _record(agent, everything)
    assert (first.ci_id, first.matched_by) == (by_serial.pk, "serial_number")
    second = _record(agent, {**everything, "serial_number": "SN-unknown", "hostname": "WEB01"})
    assert (second.ci_id, second.matched_by) == (by_host.pk, "hostname")
    third = _record(agent, {"hostname": "nope", "ip_addresses": ["10.1.0.10", "192.0.2.1"]})
    assert (third.ci_id, third.matched_by) == (by_ip.pk, "ip_address")
    fourth = _record(agent, {"primary_ip": "10.1.0.2"})
    assert (fourth.ci_id, fourth.matched_by) == (by_host.pk, "ip_address")
    none = _record(agent, {"serial_number": "SN-x", "hostname": "x", "primary_ip": "192.0.2.7"})
    assert (none.ci_id, none.matched_by, none.customer_id) == (None, "", world.customer_a.pk)
    assert Discrepancy.objects.filter(discovery=none).count() == 0


def test_an_ambiguous_key_falls_through_to_the_next(world: World) -> None:
    agent = make_agent(world.customer_a)
    make_ci(world.customer_a, "d1", hostname="dup")
    make_ci(world.customer_a, "d2", hostname="dup")
    target = make_ci(world.customer_a, "d3", ip_addresses=("10.3.0.1",))
    found = _record(agent, {"hostname": "dup", "ip_addresses": ["10.3.0.1"]})
    assert (found.ci_id, found.matched_by) == (target.pk, "ip_address")
    assert _record(agent, {"hostname": "dup"}).ci_id is None


def test_explicit_match_keys_come_first(world: World) -> None:
    agent = make_agent(world.customer_a)
    named = make_ci(world.customer_a, "named", serial_number="SN-N")
    make_ci(world.customer_a, "other", serial_number="SN-O")
    found = _record(agent, {"serial_number": "SN-O"}, match={"ci": named.pk})
    assert (found.ci_id, found.matched_by) == (named.pk, "id")
    found = _record(agent, {"serial_number": "SN-O"}, match={"serial_number": "SN-N"})
    assert (found.ci_id, found.matched_by) == (named.pk, "serial_number")


def test_provider_staff_without_a_customer_match_only_shared_provider_cis(world: World) -> None:
    shared = make_ci(None, "jump-host", serial_number="SN-S")
    make_ci(world.customer_a, "a-host", serial_number="SN-A")
    engineer = world.engineer_a
    assert _record(engineer, {"serial_number": "SN-S"}).ci_id == shared.pk
    unmatched = _record(engineer, {"serial_number": "SN-A"})
    assert (unmatched.ci_id, unmatched.customer_id) == (None, None)
    matched = _record(engineer, {"serial_number": "SN-A"}, customer=world.customer_a)
    assert matched.ci is not None
    assert matched.ci.name == "a-host"


# --- Discrepancies -----------------------------------------------------------------------------


def test_a_discrepancy_per_differing_fact_only(world: World) -> None:
    ci = _server(world)
    agent = make_agent(world.customer_a)
    found = _record(
        agent,
        {
            "serial_number": "SN-100",  # same
            "hostname": "DB01",  # same (DNS names ignore case)
            "vendor": " Huawei ",  # same once trimmed
            "model": "2288H V6",
            "os": "Kylin V10",
            "cpu_count": "16",  # same once read as the attribute's integer
            "memory_gb": 64,  # not recorded yet
            "ip_addresses": ["10.0.0.6", "10.0.0.5"],
            "attr:rack_position": "A-12",  # not an attribute of servers: ignored
            "primary_ip": None,  # not observed
        },
    )
    assert found.ci_id == ci.pk
    assert _open(ci) == {
        "model": ("2288H V5", "2288H V6"),
        "attr:os": ("CentOS 7", "Kylin V10"),
        "attr:memory_gb": (None, 64),
        "ip_addresses": (["10.0.0.5"], ["10.0.0.5", "10.0.0.6"]),
    }
    assert set(Discrepancy.objects.values_list("discovery_id", flat=True)) == {found.pk}
    assert found.facts["attr:rack_position"] == "A-12"
    ci.refresh_from_db()
    assert (ci.model, ci.attributes) == ("2288H V5", {"os": "CentOS 7", "cpu_count": 16})
    assert ci.changes.count() == 1  # only "created": nothing changes before a decision


def test_a_newer_observation_replaces_the_open_one(world: World) -> None:
    ci = _server(world)
    agent = make_agent(world.customer_a)
    _record(agent, {"serial_number": "SN-100", "vendor": "Inspur"})
    first = Discrepancy.objects.get(ci=ci, field="vendor")
    newer = _record(agent, {"serial_number": "SN-100", "vendor": "Lenovo"})
    assert Discrepancy.objects.filter(ci=ci).count() == 1
    replaced = Discrepancy.objects.get(ci=ci, field="vendor")
    assert (replaced.pk, replaced.status, replaced.discovery_id) == (first.pk, "open", newer.pk)
    assert (replaced.recorded_value, replaced.observed_value) == ("Huawei", "Lenovo")
    # The record turns out right after all: the stale open discrepancy goes away.
    _record(agent, {"serial_number": "SN-100", "vendor": "Huawei"})
    assert Discrepancy.objects.filter(ci=ci).count() == 0
    assert Discovery.objects.filter(ci=ci).count() == 3


def test_accept_updates_the_ci_with_a_discovery_history_entry(world: World) -> None:
    ci = _server(world)
    agent = make_agent(world.customer_a)
    _record(
        agent,
        {"serial_number": "SN-100", "model": "2288H V6", "os": "Kylin V10"},
    )
    _record(agent, {"serial_number": "SN-100", "ip_addresses": ["10.0.0.5", "10.0.0.6"]})
    engineer = world.engineer_a
    model = Discrepancy.objects.get(ci=ci, field="model")
    decided = disc.accept_discrepancy(model, engineer)
    assert (decided.status, decided.decided_by_id) == ("accepted", engineer.pk)
    assert decided.decided_at is not None
    change = CIChange.objects.filter(ci=ci).order_by("-id").first()
    assert change is not None
    assert (change.kind, change.source, change.actor_id) == ("updated", "discovery", engineer.pk)
    assert change.changes == {"model": ["2288H V5", "2288H V6"]}
    disc.accept_discrepancy(Discrepancy.objects.get(ci=ci, field="attr:os"), engineer)
    disc.accept_discrepancy(Discrepancy.objects.get(ci=ci, field="ip_addresses"), engineer)
    ci.refresh_from_db()
    assert ci.model == "2288H V6"
    assert ci.attributes == {"os": "Kylin V10", "cpu_count": 16}
    assert sorted(ci.addresses.values_list("address", flat=True)) == ["10.0.0.5", "10.0.0.6"]
    assert list(
        CIChange.objects.filter(ci=ci, source="discovery").values_list("changes", flat=True)
    ) == [
        {"ip_addresses": [[], ["10.0.0.6"]]},
        {"attributes": [{"os": "CentOS 7", "cpu_count": 16}, {"os": "Kylin V10", "cpu_count": 16}]},
        {"model": ["2288H V5", "2288H V6"]},
    ]
    decisions = AuditEvent.objects.filter(object_type="cmdb.discrepancy")
    assert decisions.count() == 3
    assert {e.customer_id for e in decisions} == {world.customer_a.pk}
    assert _open(ci) == {}


def test_reject_leaves_the_ci_unchanged_and_is_not_raised_again(world: World) -> None:
    ci = _server(world)
    agent = make_agent(world.customer_a)
    _record(agent, {"serial_number": "SN-100", "vendor": "Inspur"})
    rejected = disc.reject_discrepancy(Discrepancy.objects.get(ci=ci), world.engineer_a)
    assert rejected.status == "rejected"
    ci.refresh_from_db()
    assert ci.vendor == "Huawei"
    assert ci.changes.count() == 1
    _record(agent, {"serial_number": "SN-100", "vendor": "Inspur"})
    assert _open(ci) == {}
    _record(agent, {"serial_number": "SN-100", "vendor": "Lenovo"})
    assert _open(ci) == {"vendor": ("Huawei", "Lenovo")}


def test_accepting_a_value_that_does_not_fit_changes_nothing(world: World) -> None:
    ci = _server(world)
    _record(make_agent(world.customer_a), {"serial_number": "SN-100", "cpu_count": "many"})
    discrepancy = Discrepancy.objects.get(ci=ci)
    assert discrepancy.observed_value == "many"
    with pytest.raises(ValidationError):
        disc.accept_discrepancy(discrepancy, world.engineer_a)
    discrepancy.refresh_from_db()
    ci.refresh_from_db()
    assert (discrepancy.status, ci.attributes["cpu_count"], ci.changes.count()) == ("open", 16, 1)
    response = api_as(world.engineer_a).post(f"/api/v1/cmdb/discrepancies/{discrepancy.pk}/accept/")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


# --- API ---------------------------------------------------------------------------------------


def test_post_matches_and_answers_with_the_discrepancies(world: World) -> None:
    ci = _server(world)
    issued = core_services.create_token(make_agent(world.customer_a), "agent")
    response = bearer(issued.key).post(
        URL,
        {"source": "node-agent", "facts": {"hostname": "db01", "vendor": "Inspur", "os": "Kylin"}},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    stored = Discovery.objects.get()
    assert (body["id"], body["ci"], body["ci_name"], body["matched_by"]) == (
        stored.pk,
        ci.pk,
        "db01",
        "hostname",
    )
    assert body["customer"] == world.customer_a.pk
    assert [
        (d["field"], d["recorded_value"], d["observed_value"]) for d in body["discrepancies"]
    ] == [
        ("attr:os", "CentOS 7", "Kylin"),
        ("vendor", "Huawei", "Inspur"),
    ]


def test_decided_twice_is_a_409_and_changes_nothing(world: World) -> None:
    ci = _server(world)
    _record(make_agent(world.customer_a), {"serial_number": "SN-100", "vendor": "Inspur"})
    discrepancy = Discrepancy.objects.get(ci=ci)
    client = api_as(world.engineer_a)
    accept = f"/api/v1/cmdb/discrepancies/{discrepancy.pk}/accept/"
    first = client.post(accept)
    assert first.status_code == 200
    assert first.json()["status"] == "accepted"
    changes = ci.changes.count()
    events = AuditEvent.objects.count()
    for url in (accept, f"/api/v1/cmdb/discrepancies/{discrepancy.pk}/reject/"):
        again = client.post(url, HTTP_ACCEPT_LANGUAGE="en")
        assert again.status_code == 409
        assert again.json()["error"]["code"] == "conflict"
        assert "already decided" in again.json()["error"]["message"]
    with pytest.raises(disc.AlreadyDecidedError):
        disc.reject_discrepancy(discrepancy, world.engineer_a)
    discrepancy.refresh_from_db()
    assert discrepancy.status == "accepted"
    assert (ci.changes.count(), AuditEvent.objects.count()) == (changes, events)


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"source": "a", "facts": {"hostname": "x" * (65 * 1024)}}, 413, None),
        ({"source": "a", "facts": {f"attr:a{i}": i for i in range(201)}}, 400, "facts"),
        ({"source": "a", "facts": {"colour": "red"}}, 400, "facts"),
        ({"source": "a", "facts": {"primary_ip": "10.0.0.300"}}, 400, "facts"),
        ({"source": "a", "facts": {"ip_addresses": "10.0.0.1"}}, 400, "facts"),
        ({"source": "a", "facts": {"hostname": 42}}, 400, "facts"),
        ({"source": "a", "facts": {"attr:Bad-Name": 1}}, 400, "facts"),
        ({"source": "a", "facts": {"os": "x", "attr:os": "y"}}, 400, "facts"),
        ({"source": "a", "facts": {"attr:os": {"nested": 1}}}, 400, "facts"),
        ({"source": "a", "facts": ["hostname"]}, 400, "facts"),
        ({"source": "", "facts": {"hostname": "db01"}}, 400, "source"),
        ({"facts": {"hostname": "db01"}}, 400, "source"),
        ({"source": "a", "facts": {"hostname": "db01"}, "match": {"mac": "x"}}, 400, "match"),
    ],
)
def test_bad_payloads_are_refused_and_nothing_is_stored(
    world: World, body: dict[str, Any], status: int, field: str | None
) -> None:
    _server(world)
    issued = core_services.create_token(make_agent(world.customer_a), "agent")
    response = bearer(issued.key).post(URL, body, format="json")
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    if field is None:
        assert error["code"] == "request_too_large"
    else:
        assert list(error["fields"]) == [field]
    assert (Discovery.objects.count(), Discrepancy.objects.count()) == (0, 0)


def test_an_oversized_observation_is_refused_by_the_service_too(world: World) -> None:
    agent = make_agent(world.customer_a)
    facts = {f"attr:a{i}": "x" * 400 for i in range(180)}
    assert len(json.dumps(facts)) > disc.MAX_PAYLOAD_BYTES
    with pytest.raises(disc.PayloadTooLargeError):
        _record(agent, facts)
    assert Discovery.objects.count() == 0


def test_wrong_or_revoked_tokens_get_401_and_nothing_is_stored(world: World) -> None:
    _server(world)
    issued = core_services.create_token(make_agent(world.customer_a), "agent")
    body = {"source": "a", "facts": {"hostname": "db01", "vendor": "Inspur"}}
    wrong = issued.key[:-4] + ("aaaa" if not issued.key.endswith("aaaa") else "bbbb")
    assert bearer(wrong).post(URL, body, format="json").status_code == 401
    core_services.revoke_token(issued.token)
    assert bearer(issued.key).post(URL, body, format="json").status_code == 401
    assert bearer("").post(URL, body, format="json").status_code == 401
    assert (Discovery.objects.count(), Discrepancy.objects.count()) == (0, 0)


def test_reporting_needs_the_add_discovery_permission(world: World) -> None:
    _server(world)
    body = {"source": "a", "facts": {"hostname": "db01", "vendor": "Inspur"}}
    for user in (world.customer_a_admin, world.operator_a, world.auditor):
        assert api_as(user).post(URL, body, format="json").status_code == 403
    assert Discovery.objects.count() == 0


def test_customer_a_cannot_match_customer_b_cis(world: World) -> None:
    theirs = make_ci(
        world.customer_b, "b-db", serial_number="SN-B", hostname="b-db", ip_addresses=("10.8.0.1",)
    )
    issued = core_services.create_token(make_agent(world.customer_a), "agent")
    facts = {"serial_number": "SN-B", "hostname": "b-db", "ip_addresses": ["10.8.0.1"]}
    response = bearer(issued.key).post(
        URL, {"source": "a", "facts": {**facts, "vendor": "x"}, "match": {"ci": theirs.pk}}
    )
    assert response.status_code == 201
    assert (response.json()["ci"], response.json()["discrepancies"]) == (None, [])
    stored = Discovery.objects.get()
    assert (stored.ci_id, stored.customer_id) == (None, world.customer_a.pk)
    # Naming customer B does not help: B is not a customer A's agent or team A may see.
    for client in (bearer(issued.key), api_as(world.engineer_a)):
        refused = client.post(
            URL, {"source": "a", "facts": facts, "customer": world.customer_b.pk}, format="json"
        )
        assert refused.status_code == 400
        assert list(refused.json()["error"]["fields"]) == ["customer"]
    assert Discovery.objects.count() == 1
    assert Discrepancy.objects.count() == 0


def test_lists_filters_and_decisions_are_scoped(world: World) -> None:
    ours = _server(world)
    theirs = make_ci(world.customer_b, "b-db", serial_number="SN-B")
    _record(make_agent(world.customer_a), {"serial_number": "SN-100", "vendor": "Inspur"})
    _record(make_agent(world.customer_a), {"serial_number": "SN-nothing"})
    _record(make_agent(world.customer_b), {"serial_number": "SN-B", "vendor": "Dell"})
    _record(make_agent(world.customer_b), {"serial_number": "SN-b-unknown"})
    client = api_as(world.engineer_a)

    listed = client.get(URL).json()["results"]
    assert {(d["ci"], d["customer"]) for d in listed} == {
        (ours.pk, world.customer_a.pk),
        (None, world.customer_a.pk),
    }
    unmatched = client.get(URL, {"matched": "false"}).json()["results"]
    assert [d["facts"]["serial_number"] for d in unmatched] == ["SN-nothing"]
    matched = client.get(URL, {"matched": "true", "ci": ours.pk}).json()["results"]
    assert [d["ci"] for d in matched] == [ours.pk]
    assert client.get(URL, {"ci": theirs.pk}).json()["results"] == []

    discrepancies = client.get("/api/v1/cmdb/discrepancies/", {"status": "open"}).json()
    assert [(d["ci"], d["field"], d["observed_value"]) for d in discrepancies["results"]] == [
        (ours.pk, "vendor", "Inspur")
    ]
    assert client.get("/api/v1/cmdb/discrepancies/", {"status": "rejected"}).json()["results"] == []
    assert client.get("/api/v1/cmdb/discrepancies/", {"status": "nope"}).status_code == 400

    their_discrepancy = Discrepancy.objects.get(ci=theirs)
    for action in ("accept", "reject"):
        url = f"/api/v1/cmdb/discrepancies/{their_discrepancy.pk}/{action}/"
        assert client.post(url).status_code == 404
    their_discrepancy.refresh_from_db()
    theirs.refresh_from_db()
    assert (their_discrepancy.status, theirs.vendor) == ("open", "")

    everything = api_as(world.manager).get(URL).json()["results"]
    assert len(everything) == 4


def test_decisions_need_their_permissions(world: World) -> None:
    ci = _server(world)
    _record(make_agent(world.customer_a), {"serial_number": "SN-100", "vendor": "Inspur"})
    discrepancy = Discrepancy.objects.get(ci=ci)
    base = f"/api/v1/cmdb/discrepancies/{discrepancy.pk}"
    assert api_as(world.operator_a).post(f"{base}/reject/").status_code == 403
    assert api_as(world.customer_a_admin).post(f"{base}/accept/").status_code == 403
    # An agent may read discrepancies but not decide them.
    agent = make_agent(world.customer_a)
    assert api_as(agent).get(f"{base}/").status_code == 200
    assert api_as(agent).post(f"{base}/accept/").status_code == 403
    discrepancy.refresh_from_db()
    assert discrepancy.status == "open"


def test_api_lists_do_not_grow_queries_with_rows(
    world: World, django_assert_max_num_queries: Any
) -> None:
    agent = make_agent(world.customer_a)
    for index in range(30):
        make_ci(world.customer_a, f"host-{index}", serial_number=f"SN-{index}")
        _record(agent, {"serial_number": f"SN-{index}", "vendor": f"v{index}"})
        _record(agent, {"serial_number": f"unknown-{index}"})
    client = api_as(world.engineer_a)
    with django_assert_max_num_queries(7):
        response = client.get(URL, {"page_size": 100})
    assert len(response.json()["results"]) == 60
    with django_assert_max_num_queries(7):
        response = client.get("/api/v1/cmdb/discrepancies/", {"page_size": 100})
    assert len(response.json()["results"]) == 30


def test_decisions_and_observations_lock_the_ci_first(world: World) -> None:
    """Same lock order everywhere (CI, then discrepancy), so they never deadlock."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ci = _server(world)
    agent = make_agent(world.customer_a)
    with CaptureQueriesContext(connection) as observing:
        _record(agent, {"serial_number": "SN-100", "vendor": "Inspur"})
    discrepancy = Discrepancy.objects.get(ci=ci)
    with CaptureQueriesContext(connection) as deciding:
        disc.reject_discrepancy(discrepancy, world.engineer_a)
    locking = connection.vendor == "postgresql"
    for captured in (observing, deciding):
        selects = [
            q["sql"]
            for q in captured.captured_queries
            if q["sql"].startswith("SELECT")
            and (not locking or "FOR UPDATE" in q["sql"])
            and (
                'FROM "cmdb_configurationitem"' in q["sql"] or 'FROM "cmdb_discrepancy"' in q["sql"]
            )
        ]
        first_ci = next(i for i, sql in enumerate(selects) if "cmdb_configurationitem" in sql)
        first_discrepancy = next(
            i for i, sql in enumerate(selects) if 'FROM "cmdb_discrepancy"' in sql
        )
        assert first_ci < first_discrepancy
        if locking:
            assert 'FROM "cmdb_configurationitem"' in selects[first_ci]
            assert "FOR UPDATE" in selects[first_ci]
