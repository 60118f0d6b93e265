"""Check and probe services: every refusal names its field and reason and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from opsassure.monitoring import services, tokens
from opsassure.monitoring.models import CheckResult, Monitor, Probe
from tests.conftest import World
from tests.monitoring.helpers_ui import make_check, make_ci, result

pytestmark = pytest.mark.django_db

GOOD: dict[str, Any] = {"kind": "http", "target": "https://his.example.cn/health"}


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"target": "ftp://his.example.cn/"}, "target", "starting with http:// or https://"),
        ({"target": "http:///nohost"}, "target", "no valid host name"),
        ({"target": "https://bad host/"}, "target", "must not contain spaces"),
        ({"target": "https://his.example.cn:99999/"}, "target", "port is not a number"),
        ({"kind": "smtp"}, "kind", "Unknown kind smtp"),
        (
            {"kind": "dns", "target": "his.example.cn", "settings": {"record_type": "AXFRX"}},
            "settings.record_type",
            "Unknown record type AXFRX",
        ),
        (
            {"kind": "dns", "target": "his.example.cn", "settings": {"nameservers": ["dns1"]}},
            "settings.nameservers",
            "Not an IP address: dns1.",
        ),
        ({"interval_seconds": 5}, "interval_seconds", "between 10 and 86400 seconds"),
        ({"interval_seconds": 30, "timeout_seconds": 30}, "timeout_seconds", "shorter than"),
        ({"settings": {"json_path": "$.a[?(@.b=="}}, "settings.json_path", "does not parse"),
        ({"settings": {"json_path": "$$$"}}, "settings.json_path", "does not parse"),
        ({"settings": {"json_expected": "ok"}}, "settings.json_expected", "needs a JSON path"),
        ({"settings": {"headers": {"X-Id": 1}}}, "settings.headers", "mapping of names"),
        ({"settings": {"headers": ["Accept: x"]}}, "settings.headers", "mapping of names"),
        ({"settings": {"expected_status": 700}}, "settings.expected_status", "between 100 and 599"),
        ({"settings": {"expected_status": "2x"}}, "settings.expected_status", "Not a status code"),
        ({"settings": {"method": "FETCH"}}, "settings.method", "Unknown HTTP method FETCH"),
        ({"settings": {"colour": "red"}}, "settings", "Unknown settings for this kind: colour"),
        ({"kind": "tcp", "target": "10.0.0.1"}, "settings.port", "needs a port"),
        ({"kind": "tcp", "target": "10.0.0.1:0"}, "target", "between 1 and 65535"),
        ({"kind": "icmp", "target": "10.0.0.1:22"}, "target", "A ping target has no port"),
        ({"kind": "icmp", "target": "not_a host!"}, "target", "must not contain spaces"),
        ({"kind": "icmp", "target": "bad!host"}, "target", "host name or an IP address"),
        ({"failure_threshold": 0}, "failure_threshold", "between 1 and 100"),
        ({"severity": "disaster"}, "severity", "Unknown severity disaster"),
        ({"labels": {"team": 7}}, "labels", "mapping of names"),
    ],
)
def test_invalid_check_is_refused_with_the_reason_and_nothing_written(
    world: World, changes: dict[str, Any], field: str, reason: str
) -> None:
    arguments = {**GOOD, **changes}
    with pytest.raises(services.MonitoringError) as raised:
        services.create_check(customer=world.customer_a, name="his", **arguments)
    assert field in raised.value.fields, raised.value.fields
    assert any(reason in message for message in raised.value.fields[field]), raised.value.fields
    assert raised.value.as_dict()["error"]["code"] == "invalid_check"
    assert Monitor.objects.count() == 0


def test_valid_settings_are_normalised(world: World) -> None:
    options = services.validate_check(
        kind="http",
        target="https://his.example.cn/api",
        settings={
            "method": "post",
            "expected_status": ["2xx", 301, "400-404"],
            "json_path": "$.status",
            "json_expected": "ok",
            "headers": {"Accept": "application/json"},
        },
    )
    assert options["method"] == "POST"
    dns = services.validate_check(
        kind="dns", target="his.example.cn", settings={"record_type": "aaaa"}
    )
    assert dns == {"record_type": "AAAA"}
    assert services.validate_check(kind="tcp", target="[2001:db8::1]:5432") == {}
    assert services.validate_check(kind="tls", target="his.example.cn:8443") == {}


def test_relations_must_belong_to_the_customer(world: World) -> None:
    ci_b = make_ci(world.customer_b, "b-server", "10.2.0.1")
    probe_b, _token = tokens.create_probe(name="b-lan", customer=world.customer_b)
    with pytest.raises(services.MonitoringError) as raised:
        services.create_check(
            customer=world.customer_a, name="x", ci=ci_b, probes=[probe_b], **GOOD
        )
    assert raised.value.fields == {
        "ci": ["The configuration item belongs to another customer."],
        "probes": ["Probe b-lan runs another customer's checks only."],
    }
    assert Monitor.objects.count() == 0


def test_update_bumps_the_version_once_and_a_refused_update_changes_nothing(
    world: World,
) -> None:
    probe, _token = tokens.create_probe(name="idc-sh", zone="Shanghai IDC")
    monitor = make_check(world.customer_a, "his")
    assert monitor.config_version == 1
    services.update_check(monitor, target="https://his2.example.cn/", probes=[probe])
    monitor.refresh_from_db()
    assert (monitor.target, monitor.config_version) == ("https://his2.example.cn/", 2)
    assert list(monitor.probes.values_list("name", flat=True)) == ["idc-sh"]
    with pytest.raises(services.MonitoringError) as raised:
        services.update_check(monitor, interval_seconds=3, target="nope")
    assert set(raised.value.fields) == {"interval_seconds", "target", "timeout_seconds"}
    monitor.refresh_from_db()
    assert (monitor.target, monitor.interval_seconds, monitor.config_version) == (
        "https://his2.example.cn/",
        60,
        2,
    )
    with pytest.raises(services.MonitoringError):
        services.update_check(monitor, customer=world.customer_b)


def test_enable_and_delete(world: World) -> None:
    monitor = make_check(world.customer_a, "his")
    assert services.set_enabled(monitor, False) is True
    assert services.set_enabled(monitor, False) is False
    monitor.refresh_from_db()
    assert (monitor.enabled, monitor.config_version) == (False, 2)
    from django.utils import timezone

    result(monitor, timezone.now(), 0, 12.0)
    services.delete_check(monitor)
    assert (Monitor.objects.count(), CheckResult.objects.count()) == (0, 0)


def test_bulk_create_one_check_per_ci_and_skips_with_reasons(world: World) -> None:
    web1 = make_ci(world.customer_a, "web1", "10.1.0.11")
    web2 = make_ci(world.customer_a, "web2", "10.1.0.12")
    bare = make_ci(world.customer_a, "bare")
    named = make_ci(world.customer_a, "named", hostname="named.jch.local")
    theirs = make_ci(world.customer_b, "theirs", "10.2.0.11")
    services.create_check(
        customer=world.customer_a, name="web2 ping", kind="icmp", target="10.1.0.12", ci=web2
    )
    outcome = services.bulk_create_checks(
        customer=world.customer_a,
        cis=[web1, web2, bare, named, theirs],
        kind="icmp",
        template={"interval_seconds": 30, "timeout_seconds": 3},
    )
    assert [(m.name, m.target, m.ci_id, m.interval_seconds) for m in outcome.created] == [
        ("web1 · ICMP ping", "10.1.0.11", web1.pk, 30),
        ("named · ICMP ping", "named.jch.local", named.pk, 30),
    ]
    assert [(ci.name, reason) for ci, reason in outcome.skipped] == [
        ("web2", "already has this check"),
        ("bare", "has no IP address or host name"),
        ("theirs", "belongs to another customer"),
    ]
    again = services.bulk_create_checks(
        customer=world.customer_a, cis=[web1, named], kind="icmp", template={}
    )
    assert again.created == []
    assert Monitor.objects.filter(customer=world.customer_a).count() == 3
    http = services.bulk_create_checks(
        customer=world.customer_a,
        cis=[web1],
        kind="tcp",
        template={"target": "{host}:1521", "name": "{ci} Oracle"},
    )
    assert [(m.name, m.target) for m in http.created] == [("web1 Oracle", "10.1.0.11:1521")]


def test_bulk_create_with_a_bad_template_writes_nothing(world: World) -> None:
    web1 = make_ci(world.customer_a, "web1", "10.1.0.11")
    with pytest.raises(services.MonitoringError) as raised:
        services.bulk_create_checks(
            customer=world.customer_a, cis=[web1], kind="icmp", template={"interval_seconds": 1}
        )
    assert "interval_seconds" in raised.value.fields
    with pytest.raises(services.MonitoringError) as unknown:
        services.bulk_create_checks(
            customer=world.customer_a, cis=[web1], kind="icmp", template={"colour": "red"}
        )
    assert "template" in unknown.value.fields
    assert Monitor.objects.count() == 0


def test_probe_token_create_rotate_revoke(world: World) -> None:
    probe, token = services.create_probe(name="idc-sh", zone="Shanghai IDC")
    assert token.startswith("opsp_")
    assert tokens.authenticate_probe(token) == probe
    assert token not in str(Probe.objects.filter(pk=probe.pk).values().get())
    new = services.rotate_probe(probe)
    assert tokens.authenticate_probe(token) is None
    assert tokens.authenticate_probe(new) == probe
    assert services.revoke_probe(probe) is True
    assert services.revoke_probe(probe) is False
    assert tokens.authenticate_probe(new) is None
    with pytest.raises(services.MonitoringError) as duplicate:
        services.create_probe(name="idc-sh")
    assert duplicate.value.fields == {"name": ["A probe with this name exists."]}
    local = tokens.ensure_local_probe()
    with pytest.raises(services.MonitoringError):
        services.rotate_probe(local)
    with pytest.raises(services.MonitoringError):
        services.revoke_probe(local)
    assert Probe.objects.count() == 2
