"""Configuration audit API: rules, runs (202 + worker), scores, findings, summary; scoping."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from opsassure.cmdb import compliance
from opsassure.cmdb.models import (
    ConfigAuditFinding,
    ConfigAuditRule,
    ConfigAuditRun,
    ConfigAuditScore,
    Relation,
)
from tests.cmdb.audit_helpers import make_ci, server
from tests.conftest import World, api_as

pytestmark = pytest.mark.django_db
Kind = ConfigAuditRule.Kind


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


def _two_rules_only() -> None:
    ConfigAuditRule.objects.exclude(code__in=["has-relations", "unique-serial"]).update(
        is_enabled=False
    )


def _estate(world: World) -> dict[str, Any]:
    """A: s1-s2 related, app1 runs on s1, s3 lonely, s1/s3 share a serial. B: two lonely servers.
    Shared provider CI: lonely."""
    a, b = world.customer_a, world.customer_b
    s1 = server(a, "a-s1", serial_number="X")
    s2 = server(a, "a-s2")
    s3 = server(a, "a-s3", serial_number="X")
    app = make_ci(a, "a-app", "application")
    Relation.objects.create(customer=a, source=s1, target=s2, relation_type="connected_to")
    Relation.objects.create(customer=a, source=app, target=s1, relation_type="runs_on")
    b1 = server(b, "b-s1")
    b2 = server(b, "b-s2")
    shared = server(None, "provider-jump")
    return {"s1": s1, "s2": s2, "s3": s3, "app": app, "b1": b1, "b2": b2, "shared": shared}


def _results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    body = response.json()
    return list(body["results"])


# --- rules --------------------------------------------------------------------------------------


def test_manager_creates_a_custom_rule_with_types(world: World) -> None:
    response = api_as(world.manager).post(
        "/api/v1/cmdb/audit-rules/",
        {
            "code": "prod-vendor",
            "name": "Production CIs name their vendor",
            "kind": "custom",
            "failing_filter": {"vendor": "", "environment": "production"},
            "ci_types": ["server", "storage"],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["is_builtin"], body["is_enabled"], sorted(body["ci_types"])) == (
        False,
        True,
        ["server", "storage"],
    )
    rule = ConfigAuditRule.objects.get(code="prod-vendor")
    assert set(rule.ci_types.values_list("code", flat=True)) == {"server", "storage"}


def test_custom_filter_validation_lists_every_bad_key(world: World) -> None:
    before = ConfigAuditRule.objects.count()
    response = api_as(world.manager).post(
        "/api/v1/cmdb/audit-rules/",
        {
            "code": "bad",
            "name": "Bad",
            "kind": "custom",
            "failing_filter": {
                "password": "x",
                "name__regex": ".*",
                "status": "flying",
                "warranty_end__lt": "not a date",
                "verified_at__lt": "2025-01-01T00:00:00",
                "primary_ip": "999.1.1.1",
                "owner_team__isnull": "yes",
                "vendor": "",
            },
        },
        format="json",
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    messages = error["fields"]["failing_filter"]
    assert [m.split(":")[0] for m in messages] == [
        "password",
        "name__regex",
        "status",
        "warranty_end__lt",
        "verified_at__lt",
        "primary_ip",
        "owner_team__isnull",
    ]
    assert messages[0].startswith("password: unknown field password (allowed: asset_tag, ")
    assert messages[1].startswith("name__regex: lookup regex is not allowed for name (allowed: ")
    assert ConfigAuditRule.objects.count() == before


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        (
            {"kind": "custom", "failing_filter": {}},
            "failing_filter",
            "A custom rule needs a filter",
        ),
        ({"kind": "orphan", "failing_filter": {"vendor": ""}}, "failing_filter", "Only a custom"),
        ({"kind": "not_verified", "params": {"days": 0}}, "params", "days: a whole number"),
        ({"kind": "not_verified", "params": {"days": "30"}}, "params", "days: a whole number"),
        ({"kind": "orphan", "params": {"depth": 2}}, "params", "Unknown parameters"),
    ],
)
def test_rule_definition_errors(
    world: World, payload: dict[str, Any], field: str, message: str
) -> None:
    response = api_as(world.manager).post(
        "/api/v1/cmdb/audit-rules/", {"code": "r", "name": "R", **payload}, format="json"
    )

    assert response.status_code == 400
    messages = response.json()["error"]["fields"][field]
    assert len(messages) == 1
    assert messages[0].startswith(message)
    assert not ConfigAuditRule.objects.filter(code="r").exists()


def test_builtin_rule_may_be_toggled_and_reparametrised_only(world: World) -> None:
    client = api_as(world.manager)
    rule = ConfigAuditRule.objects.get(code="verified-90d")
    url = f"/api/v1/cmdb/audit-rules/{rule.pk}/"

    ok = client.patch(url, {"is_enabled": False, "params": {"days": 30}}, format="json")
    refused = client.patch(url, {"kind": "orphan", "name": "Renamed"}, format="json")
    deleted = client.delete(url)

    assert ok.status_code == 200, ok.content
    assert refused.status_code == 400
    assert sorted(refused.json()["error"]["fields"]) == ["kind", "name"]
    assert deleted.status_code == 400
    rule.refresh_from_db()
    assert (rule.is_enabled, rule.params, rule.kind, rule.name) == (
        False,
        {"days": 30},
        "not_verified",
        "Verified in the last 90 days",
    )


def test_custom_rule_delete_keeps_audit_evidence(world: World) -> None:
    client = api_as(world.manager)
    unused = ConfigAuditRule.objects.create(
        code="unused", name="U", kind="custom", failing_filter={"vendor": ""}
    )
    used = ConfigAuditRule.objects.create(
        code="used", name="Used", kind="custom", failing_filter={"vendor": ""}
    )
    server(world.customer_a, "s")
    compliance.run_audit()

    assert client.delete(f"/api/v1/cmdb/audit-rules/{used.pk}/").status_code == 400
    ConfigAuditScore.objects.filter(rule=unused).delete()
    assert client.delete(f"/api/v1/cmdb/audit-rules/{unused.pk}/").status_code == 204
    assert list(
        ConfigAuditRule.objects.filter(code__in=["used", "unused"]).values_list("code")
    ) == [("used",)]


def test_rules_need_manager_permissions(world: World) -> None:
    payload = {"code": "x", "name": "X", "kind": "orphan"}
    assert api_as(world.engineer_a).get("/api/v1/cmdb/audit-rules/").status_code == 200
    assert api_as(world.engineer_a).post("/api/v1/cmdb/audit-rules/", payload).status_code == 403
    assert api_as(world.customer_a_admin).get("/api/v1/cmdb/audit-rules/").status_code == 403
    assert not ConfigAuditRule.objects.filter(code="x").exists()


# --- runs ---------------------------------------------------------------------------------------


def test_post_run_returns_202_and_the_worker_fills_it(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    _estate(world)
    client = api_as(world.manager)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/api/v1/cmdb/audit-runs/")

    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "running"
    assert body["triggered_by"] == world.manager.pk
    assert response["Location"] == f"/api/v1/cmdb/audit-runs/{body['id']}/"
    assert len(callbacks) == 1
    detail = client.get(f"/api/v1/cmdb/audit-runs/{body['id']}/").json()
    assert (detail["status"], detail["checked"], detail["error"]) == ("done", 7, "")
    assert ConfigAuditScore.objects.filter(run_id=body["id"]).count() > 0


def test_post_run_while_one_runs_returns_that_run(world: World) -> None:
    busy = ConfigAuditRun.objects.create(started_at=timezone.now())

    response = api_as(world.manager).post("/api/v1/cmdb/audit-runs/")

    assert response.status_code == 202
    assert response.json()["id"] == busy.pk
    assert ConfigAuditRun.objects.count() == 1


def test_runs_are_provider_only(world: World) -> None:
    ConfigAuditRun.objects.create(started_at=timezone.now())
    assert api_as(world.customer_a_admin).get("/api/v1/cmdb/audit-runs/").status_code == 403
    assert api_as(world.engineer_a).post("/api/v1/cmdb/audit-runs/").status_code == 403
    assert len(_results(api_as(world.auditor).get("/api/v1/cmdb/audit-runs/"))) == 1
    assert ConfigAuditRun.objects.count() == 1


# --- scores, findings: scoping ------------------------------------------------------------------


def test_customer_admin_sees_only_their_scores_and_findings(world: World) -> None:
    _two_rules_only()
    cis = _estate(world)
    run = compliance.run_audit()
    client = api_as(world.customer_a_admin)

    scores = _results(client.get("/api/v1/cmdb/audit-scores/"))
    findings = _results(client.get("/api/v1/cmdb/audit-findings/"))

    assert sorted((s["rule_code"], s["ci_type"], s["checked"], s["failed"]) for s in scores) == [
        ("has-relations", "application", 1, 0),
        ("has-relations", "server", 3, 1),
        ("unique-serial", "application", 1, 0),
        ("unique-serial", "server", 3, 2),
    ]
    assert {s["customer"] for s in scores} == {world.customer_a.pk}
    assert sorted((f["ci_name"], f["rule_code"]) for f in findings) == [
        ("a-s1", "unique-serial"),
        ("a-s3", "has-relations"),
        ("a-s3", "unique-serial"),
    ]
    theirs = ConfigAuditFinding.objects.get(run=run, ci=cis["b1"])
    assert client.get(f"/api/v1/cmdb/audit-findings/{theirs.pk}/").status_code == 404
    their_score = ConfigAuditScore.objects.filter(customer=world.customer_b).first()
    assert their_score is not None
    assert client.get(f"/api/v1/cmdb/audit-scores/{their_score.pk}/").status_code == 404


def test_team_engineer_sees_their_customers_and_shared_cis(world: World) -> None:
    _two_rules_only()
    _estate(world)
    compliance.run_audit()

    scores = _results(api_as(world.engineer_a).get("/api/v1/cmdb/audit-scores/?page_size=500"))
    findings = _results(api_as(world.engineer_a).get("/api/v1/cmdb/audit-findings/"))

    assert {s["customer"] for s in scores} == {world.customer_a.pk, None}
    assert {f["ci_name"] for f in findings} == {"a-s1", "a-s3", "provider-jump"}


def test_filters(world: World) -> None:
    _two_rules_only()
    cis = _estate(world)
    first = compliance.run_audit()
    second = compliance.run_audit()
    orphan = ConfigAuditRule.objects.get(code="has-relations")
    client = api_as(world.manager)

    by_run_rule = _results(
        client.get(f"/api/v1/cmdb/audit-findings/?run={first.pk}&rule={orphan.pk}")
    )
    by_ci = _results(client.get(f"/api/v1/cmdb/audit-findings/?ci={cis['s3'].pk}"))
    scores_b = _results(
        client.get(
            f"/api/v1/cmdb/audit-scores/?run={second.pk}&customer={world.customer_b.pk}"
            "&ci_type=server"
        )
    )

    assert sorted(f["ci_name"] for f in by_run_rule) == ["a-s3", "b-s1", "b-s2", "provider-jump"]
    assert {f["run"] for f in by_run_rule} == {first.pk}
    assert sorted((f["run"], f["rule_code"]) for f in by_ci) == sorted(
        [(r, c) for r in (first.pk, second.pk) for c in ("has-relations", "unique-serial")]
    )
    assert sorted((s["rule_code"], s["checked"], s["failed"]) for s in scores_b) == [
        ("has-relations", 2, 2),
        ("unique-serial", 2, 0),
    ]


# --- summary ------------------------------------------------------------------------------------


def test_summary_numbers_for_manager_and_customer(world: World) -> None:
    _two_rules_only()
    cis = _estate(world)
    first = compliance.run_audit()
    Relation.objects.create(
        customer=world.customer_b, source=cis["b1"], target=cis["b2"], relation_type="depends_on"
    )
    second = compliance.run_audit()

    manager = api_as(world.manager).get("/api/v1/cmdb/audit-summary/").json()
    customer = api_as(world.customer_a_admin).get("/api/v1/cmdb/audit-summary/").json()

    # Manager, latest run: A server has-rel 3/1, app 1/0; B servers has-rel 2/0; shared 1/1;
    # unique-serial A server 3/2, app 1/0; B 2/0; shared 1/0.
    assert manager["run"]["id"] == second.pk
    assert manager["overall"] == {"checked": 14, "failed": 4, "compliance": 71.43}
    assert [(r["code"], r["checked"], r["failed"], r["compliance"]) for r in manager["rules"]] == [
        ("has-relations", 7, 2, 71.43),
        ("unique-serial", 7, 2, 71.43),
    ]
    assert [
        (c["code"], c["checked"], c["failed"], c["compliance"]) for c in manager["customers"]
    ] == [
        ("A", 8, 3, 62.5),
        ("B", 4, 0, 100.0),
        ("", 2, 1, 50.0),  # shared provider CIs last
    ]
    assert manager["customers"][2]["customer"] is None
    assert [(t["code"], t["checked"], t["failed"]) for t in manager["ci_types"]] == [
        ("application", 2, 0),
        ("server", 12, 4),
    ]
    # First run: B's servers were orphans too: 14 checks, 6 failed.
    assert [(p["run"], p["compliance"]) for p in manager["trend"]] == [
        (first.pk, 57.14),
        (second.pk, 71.43),
    ]

    assert customer["overall"] == {"checked": 8, "failed": 3, "compliance": 62.5}
    assert [(r["code"], r["compliance"]) for r in customer["rules"]] == [
        ("has-relations", 75.0),
        ("unique-serial", 50.0),
    ]
    assert [c["code"] for c in customer["customers"]] == ["A"]
    assert [(p["run"], p["compliance"]) for p in customer["trend"]] == [
        (first.pk, 62.5),
        (second.pk, 62.5),
    ]


def test_summary_for_a_chosen_run_and_bad_parameters(world: World) -> None:
    _two_rules_only()
    _estate(world)
    first = compliance.run_audit()
    second = compliance.run_audit()
    b_only = compliance.run_audit(customer_ids=[world.customer_b.pk])
    client = api_as(world.customer_a_admin)

    chosen = client.get(f"/api/v1/cmdb/audit-summary/?run={first.pk}&trend=1")
    latest = client.get("/api/v1/cmdb/audit-summary/")

    assert chosen.status_code == 200
    assert chosen.json()["run"]["id"] == first.pk
    assert len(chosen.json()["trend"]) == 0  # the single most recent run holds nothing of A's
    # The B-only run is the newest, but A's latest results are in the run before it.
    assert latest.json()["run"]["id"] == second.pk
    assert client.get(f"/api/v1/cmdb/audit-summary/?run={b_only.pk}").status_code == 404
    assert client.get("/api/v1/cmdb/audit-summary/?run=x").status_code == 400
    assert client.get("/api/v1/cmdb/audit-summary/?trend=0").status_code == 400
    assert api_as(world.customer_a_user).get("/api/v1/cmdb/audit-summary/").status_code == 403


def test_summary_without_any_run(world: World) -> None:
    body = api_as(world.manager).get("/api/v1/cmdb/audit-summary/").json()
    assert body == {
        "run": None,
        "overall": {"checked": 0, "failed": 0, "compliance": None},
        "rules": [],
        "customers": [],
        "ci_types": [],
        "trend": [],
    }


# --- query counts -------------------------------------------------------------------------------


def test_list_endpoints_do_not_grow_with_rows(
    world: World, django_assert_max_num_queries: Any
) -> None:
    for index in range(30):
        server(world.customer_a, f"a{index}", serial_number="SAME")
    for _run in range(3):
        compliance.run_audit()
    client = api_as(world.manager)
    endpoints = [
        "/api/v1/cmdb/audit-rules/",
        "/api/v1/cmdb/audit-runs/",
        "/api/v1/cmdb/audit-scores/",
        "/api/v1/cmdb/audit-findings/",
        "/api/v1/cmdb/audit-summary/",
    ]
    for url in endpoints:
        with django_assert_max_num_queries(12):
            response = client.get(url)
        assert response.status_code == 200, url
    assert len(_results(client.get("/api/v1/cmdb/audit-findings/"))) == 100
