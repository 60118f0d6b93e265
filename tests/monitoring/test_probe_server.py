"""Server side of the probe protocol: assignments, results, states, alerts, staleness."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from opsassure.alerting.models import Alert
from opsassure.monitoring import probing, tokens
from opsassure.monitoring.models import (
    CheckResult,
    MetricSeries,
    Monitor,
    MonitorProbeState,
    Probe,
    ResultBatch,
    Sample,
)
from opsassure.monitoring.probing_input import MetricIn
from tests.conftest import World
from tests.factories import _ci
from tests.monitoring.probe_db import (
    T0,
    alerts_for,
    batch_id,
    make_check,
    make_probe,
    minutes,
    result,
)

pytestmark = pytest.mark.django_db

NOW = T0 + dt.timedelta(minutes=30)


def accept(probe: Probe, *results: probing.ResultIn, now: dt.datetime = NOW) -> dict[str, object]:
    return probing.accept_results(probe, batch_id(), list(results), now=now).as_json()


# --- assignments ----------------------------------------------------------------------------


def test_assignments_by_probe_kind(world: World) -> None:
    zone, _ = make_probe("zone-a")
    own, _ = make_probe("a-lan", customer=world.customer_a)
    local = tokens.ensure_local_probe()
    named_a = make_check(world.customer_a, "a-named", probes=[zone, own], interval_seconds=20)
    named_b = make_check(world.customer_b, "b-named", probes=[zone, own])
    unnamed = make_check(world.customer_a, "unnamed")
    on_local = make_check(world.customer_b, "b-local", probes=[local])
    make_check(world.customer_a, "disabled", probes=[zone], enabled=False)

    def ids(probe: Probe) -> list[int]:
        data, _etag = probing.assignments_payload(probe)
        return [check["id"] for check in data["checks"]]

    assert ids(zone) == [named_a.pk, named_b.pk]
    assert ids(own) == [named_a.pk]  # a customer's probe never gets another customer's check
    assert ids(local) == [unnamed.pk, on_local.pk]
    data, _ = probing.assignments_payload(zone)
    assert data["poll_seconds"] == 20
    assert data["probe"] == {"id": zone.pk, "name": "zone-a", "zone": "Shanghai IDC"}
    assert data["checks"][0] == {
        "id": named_a.pk,
        "kind": "http",
        "target": "http://127.0.0.1:9/",
        "settings": {},
        "interval_seconds": 20,
        "timeout_seconds": 10.0,
        "retries": 0,
        "config_version": 1,
    }
    tokens.revoke(zone)
    zone.refresh_from_db()
    assert ids(zone) == []


def test_etag_changes_with_the_assignment_only(world: World) -> None:
    zone, _ = make_probe()
    check = make_check(world.customer_a, probes=[zone])
    _, first = probing.assignments_payload(zone)
    _, again = probing.assignments_payload(zone)
    assert first == again
    Monitor.objects.filter(pk=check.pk).update(target="http://127.0.0.1:10/", config_version=2)
    _, changed = probing.assignments_payload(zone)
    assert changed != first
    make_check(world.customer_a, "second", probes=[zone])
    _, grown = probing.assignments_payload(zone)
    assert grown not in {first, changed}


# --- results and the state machine ----------------------------------------------------------


def test_down_after_failure_threshold_then_up_again_with_alerts(world: World) -> None:
    zone, _ = make_probe()
    ci = _ci(world.customer_a)
    check = make_check(world.customer_a, probes=[zone], failure_threshold=2, ci=ci)
    assert accept(zone, result(check, minutes(0), 0)) == {
        "accepted": 1,
        "duplicates": 0,
        "refused": [],
    }
    check.refresh_from_db()
    assert (check.state, check.state_since) == ("up", minutes(0))
    accept(zone, result(check, minutes(1), 2, message="HTTP 500, expected 200-399"))
    check.refresh_from_db()
    assert check.state == "up"  # one failure is below the threshold
    assert alerts_for(f"mon-check-{check.pk}") == []
    accept(zone, result(check, minutes(2), 2, message="HTTP 500, expected 200-399"))
    check.refresh_from_db()
    assert (check.state, check.state_since) == ("down", minutes(2))
    assert (check.last_status, check.last_message) == (2, "HTTP 500, expected 200-399")
    assert alerts_for(f"mon-check-{check.pk}") == [("CheckDown", "firing", "critical")]
    alert = Alert.objects.get(fingerprint=f"mon-check-{check.pk}")
    assert alert.labels["opsassure_ci_id"] == str(ci.pk)
    assert alert.labels["check_id"] == str(check.pk)
    assert alert.customer_id == world.customer_a.pk
    assert alert.annotations["description"] == "HTTP 500, expected 200-399"
    row = MonitorProbeState.objects.get(monitor=check, probe=zone)
    assert (row.state, row.consecutive_failures, row.consecutive_successes) == ("down", 2, 0)
    accept(zone, result(check, minutes(3), 2))
    assert alerts_for(f"mon-check-{check.pk}") == [("CheckDown", "firing", "critical")]
    accept(zone, result(check, minutes(4), 0))
    check.refresh_from_db()
    assert (check.state, check.state_since, check.last_response_ms) == ("up", minutes(4), 12.5)
    assert alerts_for(f"mon-check-{check.pk}") == [("CheckDown", "resolved", "critical")]


def test_success_threshold_and_degraded(world: World) -> None:
    zone, _ = make_probe()
    check = make_check(
        world.customer_a,
        probes=[zone],
        failure_threshold=1,
        success_threshold=2,
        severity="warning",
    )
    accept(zone, result(check, minutes(0), 2))
    check.refresh_from_db()
    assert check.state == "down"
    accept(zone, result(check, minutes(1), 0))
    check.refresh_from_db()
    assert check.state == "down"  # one success of the two needed
    accept(zone, result(check, minutes(2), 1, message="slow: 900 ms > 500 ms"))
    check.refresh_from_db()
    assert check.state == "degraded"
    assert alerts_for(f"mon-check-{check.pk}") == [("CheckDown", "resolved", "warning")]
    assert alerts_for(f"mon-check-{check.pk}-degraded") == [("CheckDegraded", "firing", "warning")]
    accept(zone, result(check, minutes(3), 0))
    check.refresh_from_db()
    assert check.state == "up"
    assert alerts_for(f"mon-check-{check.pk}-degraded") == [
        ("CheckDegraded", "resolved", "warning")
    ]


def test_state_over_several_probes(world: World) -> None:
    east, _ = make_probe("east")
    west, _ = make_probe("west")
    check = make_check(world.customer_a, probes=[east, west], failure_threshold=1)
    accept(east, result(check, minutes(0), 0))
    accept(west, result(check, minutes(0), 0))
    check.refresh_from_db()
    assert check.state == "up"
    accept(east, result(check, minutes(1), 2))
    check.refresh_from_db()
    assert check.state == "degraded"  # one location down
    accept(west, result(check, minutes(1), 2))
    check.refresh_from_db()
    assert check.state == "down"  # every location down
    assert alerts_for(f"mon-check-{check.pk}-degraded") == [
        ("CheckDegraded", "resolved", "warning")
    ]
    assert alerts_for(f"mon-check-{check.pk}") == [("CheckDown", "firing", "critical")]


def test_one_batch_of_many_results_moves_the_state_in_time_order(world: World) -> None:
    zone, _ = make_probe()
    check = make_check(world.customer_a, probes=[zone], failure_threshold=3)
    answer = accept(
        zone,
        result(check, minutes(3), 2),
        result(check, minutes(1), 2),
        result(check, minutes(0), 0),
        result(check, minutes(2), 2),
    )
    assert answer == {"accepted": 4, "duplicates": 0, "refused": []}
    check.refresh_from_db()
    assert (check.state, check.state_since, check.last_result_at) == (
        "down",
        minutes(3),
        minutes(3),
    )
    assert alerts_for(f"mon-check-{check.pk}") == [("CheckDown", "firing", "critical")]


def test_refusals_and_nothing_stored_for_them(world: World) -> None:
    zone, _ = make_probe()
    mine = make_check(world.customer_a, "mine", probes=[zone])
    other = make_check(world.customer_a, "not mine")
    answer = accept(
        zone,
        result(mine, NOW - dt.timedelta(minutes=1)),
        result(other, NOW - dt.timedelta(minutes=1)),
        result(mine, NOW + dt.timedelta(seconds=301)),
        result(mine, NOW - dt.timedelta(days=7, seconds=1)),
        result(mine, NOW + dt.timedelta(seconds=299)),
        probing.ResultIn(check_id=999_999, started_at=NOW, status=0),
    )
    assert answer == {
        "accepted": 2,
        "duplicates": 0,
        "refused": [
            {"index": 1, "reason": "not_assigned"},
            {"index": 2, "reason": "future"},
            {"index": 3, "reason": "too_old"},
            {"index": 5, "reason": "not_assigned"},
        ],
    }
    assert list(
        CheckResult.objects.values_list("monitor_id", "started_at").order_by("started_at")
    ) == [
        (mine.pk, NOW - dt.timedelta(minutes=1)),
        (mine.pk, NOW + dt.timedelta(seconds=299)),
    ]
    other.refresh_from_db()
    assert (other.state, other.last_result_at) == ("unknown", None)
    assert not MonitorProbeState.objects.filter(monitor=other).exists()


def test_duplicates_and_batch_replay_are_never_double_counted(world: World) -> None:
    zone, _ = make_probe()
    check = make_check(world.customer_a, probes=[zone], failure_threshold=2)
    first_id = batch_id()
    results = [result(check, minutes(0), 2), result(check, minutes(1), 0)]
    first = probing.accept_results(zone, first_id, results, now=NOW).as_json()
    assert first == {"accepted": 2, "duplicates": 0, "refused": []}
    replay = probing.accept_results(zone, first_id, results, now=NOW).as_json()
    assert replay == {"accepted": 2, "duplicates": 0, "refused": [], "replay": True}
    again = accept(zone, *results, result(check, minutes(0), 2))
    assert again == {"accepted": 0, "duplicates": 3, "refused": []}
    assert CheckResult.objects.count() == 2
    assert ResultBatch.objects.filter(probe=zone).count() == 2
    assert list(
        ResultBatch.objects.order_by("id").values_list("result_count", "accepted_count")
    ) == [(2, 2), (3, 0)]
    row = MonitorProbeState.objects.get(monitor=check, probe=zone)
    assert (row.consecutive_failures, row.consecutive_successes, row.last_run_at) == (
        0,
        1,
        minutes(1),
    )


def test_late_result_is_stored_but_does_not_move_the_state(world: World) -> None:
    zone, _ = make_probe()
    check = make_check(world.customer_a, probes=[zone], failure_threshold=1)
    accept(zone, result(check, minutes(5), 0))
    accept(zone, result(check, minutes(4), 2))
    check.refresh_from_db()
    assert (check.state, check.last_result_at, check.last_status) == ("up", minutes(5), 0)
    assert CheckResult.objects.filter(monitor=check).count() == 2


def test_tls_expiry_and_node_exporter_metrics_are_kept(world: World) -> None:
    zone, _ = make_probe()
    tls = make_check(world.customer_a, "cert", kind="tls", target="example.com", probes=[zone])
    scrape = make_check(
        world.customer_a,
        "node",
        kind="node_exporter",
        target="http://h:9100/metrics",
        probes=[zone],
    )
    expires = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
    accept(
        zone,
        result(tls, minutes(0), 0, cert_expires_at=expires),
        result(
            scrape,
            minutes(0),
            0,
            metrics=(MetricIn("load1", 0.5), MetricIn("disk_used_percent", 75.0, "/", "%")),
        ),
        result(scrape, minutes(1), 0, metrics=(MetricIn("load1", 0.75),)),
    )
    tls.refresh_from_db()
    assert tls.cert_expires_at == expires
    assert list(
        MetricSeries.objects.order_by("name").values_list(
            "name", "dimension", "monitor_id", "last_value"
        )
    ) == [("disk_used_percent", "/", scrape.pk, 75.0), ("load1", "", scrape.pk, 0.75)]
    assert sorted(Sample.objects.values_list("series__name", "ts", "value")) == [
        ("disk_used_percent", minutes(0), 75.0),
        ("load1", minutes(0), 0.5),
        ("load1", minutes(1), 0.75),
    ]


# --- heartbeats and staleness ---------------------------------------------------------------


def test_heartbeat_keeps_known_fields_only(world: World) -> None:
    zone, _ = make_probe()
    probing.record_heartbeat(
        zone,
        {
            "version": "1.2",
            "checks": 3,
            "lag_p99_ms": 12.5,
            "evil": "x",
            "buffered": True,
            "spooled": "y" * 100,
        },
        now=NOW,
    )
    zone.refresh_from_db()
    assert zone.last_heartbeat_at == NOW
    assert zone.heartbeat == {
        "version": "1.2",
        "checks": 3,
        "lag_p99_ms": 12.5,
        "spooled": "y" * 64,
    }


def test_silent_probe_raises_probe_down_once_and_resolves_when_back(world: World) -> None:
    zone, _ = make_probe()
    make_probe("never-started")  # no heartbeat yet: not "down"
    probing.record_heartbeat(zone, {}, now=NOW)
    fingerprint = f"mon-probe-{zone.pk}"
    assert probing.sweep_stale(now=NOW + dt.timedelta(seconds=180)) == 0
    assert probing.sweep_stale(now=NOW + dt.timedelta(seconds=181)) == 1
    assert probing.sweep_stale(now=NOW + dt.timedelta(seconds=240)) == 0
    assert alerts_for(fingerprint) == [("ProbeDown", "firing", "critical")]
    assert Alert.objects.get(fingerprint=fingerprint).customer_id is None
    probing.record_heartbeat(zone, {}, now=NOW + dt.timedelta(seconds=300))
    assert alerts_for(fingerprint) == [("ProbeDown", "resolved", "critical")]
    assert probing.sweep_stale(now=NOW + dt.timedelta(seconds=310)) == 0


def test_check_not_executed_for_two_intervals(world: World) -> None:
    zone, _ = make_probe()
    check = make_check(world.customer_a, probes=[zone], interval_seconds=60, timeout_seconds=10)
    created = check.created_at
    make_check(world.customer_a, "off", enabled=False)
    # 2 × 60 s + 10 s run time + 30 s grace = 160 s
    assert probing.sweep_stale(now=created + dt.timedelta(seconds=160)) == 0
    assert probing.sweep_stale(now=created + dt.timedelta(seconds=161)) == 1
    assert probing.sweep_stale(now=created + dt.timedelta(seconds=200)) == 0
    fingerprint = f"mon-check-{check.pk}-stale"
    assert alerts_for(fingerprint) == [("CheckNotExecuted", "firing", "warning")]
    accept(
        zone,
        result(check, created + dt.timedelta(seconds=210)),
        now=created + dt.timedelta(seconds=211),
    )
    assert probing.sweep_stale(now=created + dt.timedelta(seconds=220)) == 1
    assert alerts_for(fingerprint) == [("CheckNotExecuted", "resolved", "warning")]
    # and again after two silent intervals from the last result
    last = created + dt.timedelta(seconds=210)
    assert probing.sweep_stale(now=last + dt.timedelta(seconds=161)) == 1
    Monitor.objects.filter(pk=check.pk).update(enabled=False)  # switched off: resolved
    assert probing.sweep_stale(now=last + dt.timedelta(seconds=170)) == 1
    assert alerts_for(fingerprint) == [
        ("CheckNotExecuted", "resolved", "warning"),
        ("CheckNotExecuted", "resolved", "warning"),
    ]


@override_settings(MONITORING_MAX_FUTURE_SECONDS=10)
def test_future_limit_follows_the_setting(world: World) -> None:
    zone, _ = make_probe()
    check = make_check(world.customer_a, probes=[zone])
    answer = accept(zone, result(check, NOW + dt.timedelta(seconds=11)))
    assert answer == {"accepted": 0, "duplicates": 0, "refused": [{"index": 0, "reason": "future"}]}


def test_results_spooled_past_the_rollup_window_are_rolled_up_by_the_next_pass(
    world: World,
) -> None:
    from opsassure.monitoring import rollups
    from opsassure.monitoring.models import CheckRollup, Period, RollupBacklog

    zone, _ = make_probe()
    check = make_check(world.customer_a, probes=[zone])
    now = T0 + dt.timedelta(hours=10)
    rollups.rollup_recent(now=now)  # the periodic pass ran before the late batch arrived
    old = [result(check, T0 + dt.timedelta(minutes=m), 2 if m == 10 else 0) for m in (5, 10, 65)]
    recent = result(check, now - dt.timedelta(minutes=1))
    assert accept(zone, *old, recent, now=now)["accepted"] == 4
    backlog = RollupBacklog.objects.get()
    assert (backlog.start, backlog.end) == (old[0].started_at, rollups.recent_start(now))

    accept(zone, result(check, now - dt.timedelta(minutes=2)), now=now)  # recent only
    assert RollupBacklog.objects.count() == 1

    rollups.rollup_recent(now=now)
    hours = {
        row.bucket: (row.total, row.down)
        for row in CheckRollup.objects.filter(monitor=check, period=Period.HOUR)
    }
    first_hour = T0.replace(minute=0, second=0, microsecond=0)
    assert hours[first_hour] == (2, 1)
    assert hours[first_hour + dt.timedelta(hours=1)] == (1, 0)
    assert not RollupBacklog.objects.exists()
    day = CheckRollup.objects.get(monitor=check, period=Period.DAY, bucket=rollups.floor_day(T0))
    assert day.total == 5


def test_late_agent_samples_are_rolled_up_too(world: World) -> None:
    from opsassure.monitoring import rollups
    from opsassure.monitoring.metrics import SampleIn, store_samples
    from opsassure.monitoring.models import Agent, RollupBacklog, SampleRollup

    row, _token = tokens.create_agent_token(customer=world.customer_a, name="fleet")
    agent = Agent.objects.create(customer=world.customer_a, token=row, hostname="late-01")
    from django.utils import timezone

    old = timezone.now() - dt.timedelta(hours=6)
    store_samples(
        customer_id=world.customer_a.pk,
        ci_id=None,
        agent_id=agent.pk,
        samples=[
            SampleIn(name="cpu_percent", value=v, ts=old + dt.timedelta(minutes=v)) for v in (1, 2)
        ],
    )
    assert RollupBacklog.objects.count() == 1
    rollups.rollup_recent()
    hourly = SampleRollup.objects.filter(period="h", series__agent=agent)
    assert sum(r.count for r in hourly) == 2
    assert not RollupBacklog.objects.exists()


def test_a_check_created_with_older_results_gets_its_grace_from_its_creation(
    world: World,
) -> None:
    """The demo (or an import) creates checks with a history that ends before the check
    existed; the probe must get a full grace period before CheckNotExecuted."""
    zone, _ = make_probe()
    check = make_check(world.customer_a, probes=[zone], interval_seconds=60, timeout_seconds=10)
    created = check.created_at
    Monitor.objects.filter(pk=check.pk).update(last_result_at=created - dt.timedelta(minutes=5))
    assert probing.sweep_stale(now=created + dt.timedelta(seconds=160)) == 0
    assert probing.sweep_stale(now=created + dt.timedelta(seconds=161)) == 1
