"""One sample-maker per model exposed through the API or a UI list.

The generic tenant isolation test (tests/test_isolation.py) creates a sample owned by customer
B and one owned by customer A for every registered route and list, and fails for any model
missing here — so a new app cannot register a route without being covered.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.utils import timezone

from opsassure.alerting import services as alerting_services
from opsassure.alerting.models import (
    Alert,
    AlertGroup,
    InhibitionRule,
    Integration,
    MaintenanceWindow,
    RoutingRule,
    Silence,
)
from opsassure.catalog import catalogue, sla_policies
from opsassure.catalog import services as catalog_services
from opsassure.catalog.models import (
    CalendarDay,
    OlaTarget,
    PriorityMatrixCell,
    Service,
    ServiceCalendar,
    SlaPolicy,
    SlaTarget,
    WorkingInterval,
)
from opsassure.cmdb import services as cmdb_services
from opsassure.cmdb.models import (
    CIChange,
    CIType,
    ConfigAuditFinding,
    ConfigAuditRule,
    ConfigAuditRun,
    ConfigAuditScore,
    ConfigurationItem,
    Discovery,
    Discrepancy,
    Location,
    MaintenanceContract,
    Relation,
    Supplier,
    Tag,
)
from opsassure.core import audit
from opsassure.core.models import ApiToken, AuditEvent, Customer, CustomerContact, Team, User
from opsassure.monitoring import tokens as monitoring_tokens
from opsassure.monitoring.models import CheckResult, Monitor, Probe
from opsassure.notify.models import Destination, Notification, NotificationRule
from opsassure.oncall.models import (
    EscalationPolicy,
    EscalationRun,
    Handover,
    Layer,
    Override,
    Schedule,
)
from opsassure.servicedesk.models import (
    Attachment,
    Escalation,
    InboundMail,
    Mailbox,
    Rating,
    SlaClock,
    Ticket,
)
from tests.conftest import World, make_user

_counter = itertools.count(1)


@dataclass
class Sample:
    obj: models.Model
    marker: str  # text that shows the object in a page or payload
    provider_visible: bool = False  # provider staff of any team may legitimately see it
    personal: bool = False  # only its owner sees it (no positive control for other personas)
    shared: bool = False  # provider-wide vocabulary every signed-in user may read (CI types)


def _customer(world: World, customer: Customer) -> Sample:
    return Sample(customer, customer.name)


def _contact(world: World, customer: Customer) -> Sample:
    name = f"Contact-{customer.code}-{next(_counter)}"
    return Sample(CustomerContact.objects.create(customer=customer, name=name), name)


def _team(world: World, customer: Customer) -> Sample:
    code = f"T{customer.code}{next(_counter)}"
    team = Team.objects.create(code=code, name=f"Team-serving-{code}")
    team.customers.add(customer)
    return Sample(team, team.name, provider_visible=True)


def _user(world: World, customer: Customer) -> Sample:
    user = make_user(
        f"user-{customer.code.lower()}-{next(_counter)}", "customer_user", customer=customer
    )
    return Sample(user, user.username)


def _token(world: World, customer: Customer) -> Sample:
    from opsassure.core.services import create_token

    owner = world.customer_b_user if customer == world.customer_b else world.customer_a_user
    name = f"token-{customer.code}-{next(_counter)}"
    return Sample(create_token(owner, name).token, name, personal=True)


def _audit_event(world: World, customer: Customer) -> Sample:
    marker = f"audit-marker-{customer.code}-{next(_counter)}"
    event = audit.record(
        AuditEvent.Action.EXPORT,
        object_type="test.sample",
        object_repr=marker,
        customer_id=customer.pk,
    )
    return Sample(event, marker)


def _ci(customer: Customer, type_code: str = "server", name: str = "") -> ConfigurationItem:
    from opsassure.cmdb.builtin import seed_builtins

    seed_builtins()
    return cmdb_services.create_ci(
        actor=None,
        customer_id=customer.pk,
        ci_type=CIType.objects.get(code=type_code),
        name=name or f"ci-{customer.code}-{next(_counter)}",
        ip_addresses=[f"10.{customer.pk % 250}.{next(_counter) % 250}.{next(_counter) % 250}"],
    )


def _configuration_item(world: World, customer: Customer) -> Sample:
    ci = _ci(customer)
    return Sample(ci, ci.name)


def _relation(world: World, customer: Customer) -> Sample:
    source, target = _ci(customer), _ci(customer)
    relation = cmdb_services.add_relation(
        actor=None, source=source, target=target, relation_type="depends_on"
    )
    return Sample(relation, source.name)


def _ci_change(world: World, customer: Customer) -> Sample:
    ci = _ci(customer)
    return Sample(ci.changes.get(), ci.name)


def _ci_type(world: World, customer: Customer) -> Sample:
    code = f"custom{next(_counter)}"
    return Sample(CIType.objects.create(code=code, name=code), code, shared=True)


def _tag(world: World, customer: Customer) -> Sample:
    name = f"tag-{next(_counter)}"
    return Sample(Tag.objects.create(name=name), name, shared=True)


def _supplier(world: World, customer: Customer) -> Sample:
    name = f"supplier-{next(_counter)}"
    return Sample(Supplier.objects.create(name=name), name, provider_visible=True)


def _location(world: World, customer: Customer) -> Sample:
    name = f"room-{customer.code}-{next(_counter)}"
    return Sample(Location.objects.create(customer=customer, kind="room", name=name), name)


def _contract(world: World, customer: Customer) -> Sample:
    number = f"WB-{customer.code}-{next(_counter)}"
    supplier = Supplier.objects.create(name=f"s-{number}")
    contract = MaintenanceContract.objects.create(
        customer=customer,
        supplier=supplier,
        number=number,
        starts_on=datetime.date(2026, 1, 1),
        ends_on=datetime.date(2027, 1, 1),
    )
    return Sample(contract, number)


def _audit_rule_for(customer: Customer) -> ConfigAuditRule:
    code = f"rule-{customer.code.lower()}-{next(_counter)}"
    return ConfigAuditRule.objects.create(
        code=code, name=f"Rule {code}", kind="custom", failing_filter={"vendor": ""}
    )


def _audit_run_shared() -> ConfigAuditRun:
    """One finished run that the samples of both customers share (as a real run would)."""
    run = ConfigAuditRun.objects.filter(status="done", error="").order_by("-id").first()
    if run is None:
        now = timezone.now()
        run = ConfigAuditRun.objects.create(started_at=now, finished_at=now, status="done")
    return run


def _audit_rule(world: World, customer: Customer) -> Sample:
    rule = _audit_rule_for(customer)
    return Sample(rule, rule.code, provider_visible=True)


def _audit_run(world: World, customer: Customer) -> Sample:
    marker = f"run-marker-{customer.code}-{next(_counter)}"
    now = timezone.now()
    run = ConfigAuditRun.objects.create(
        started_at=now, finished_at=now, status="failed", error=marker
    )
    return Sample(run, marker, provider_visible=True)


def _audit_score(world: World, customer: Customer) -> Sample:
    rule = _audit_rule_for(customer)
    score = ConfigAuditScore.objects.create(
        run=_audit_run_shared(),
        rule=rule,
        customer=customer,
        ci_type=_ci(customer).ci_type,
        checked=3,
        failed=1,
    )
    return Sample(score, rule.code)


def _audit_finding(world: World, customer: Customer) -> Sample:
    ci = _ci(customer)
    rule = _audit_rule_for(customer)
    run = _audit_run_shared()
    ConfigAuditScore.objects.create(
        run=run, rule=rule, customer=customer, ci_type=ci.ci_type, checked=1, failed=1
    )
    finding = ConfigAuditFinding.objects.create(run=run, rule=rule, ci=ci, detail="missing: vendor")
    return Sample(finding, ci.name)


def _discovery(world: World, customer: Customer) -> Sample:
    ci = _ci(customer)
    serial = f"SN-{customer.code}-{next(_counter)}"
    discovery = Discovery.objects.create(
        received_at=timezone.now(),
        source="agent",
        customer=customer,
        ci=ci,
        facts={"serial_number": serial, "hostname": ci.name},
        matched_by="hostname",
    )
    return Sample(discovery, serial)


def _discrepancy(world: World, customer: Customer) -> Sample:
    discovery = _discovery(world, customer).obj
    assert isinstance(discovery, Discovery)
    assert discovery.ci is not None
    vendor = f"vendor-{customer.code}-{next(_counter)}"
    discrepancy = Discrepancy.objects.create(
        discovery=discovery, ci=discovery.ci, field="vendor", observed_value=vendor
    )
    return Sample(discrepancy, vendor)


def _service_calendar(customer: Customer) -> ServiceCalendar:
    code = f"cal-{customer.code}-{next(_counter)}"
    return catalog_services.create_calendar(
        customer=customer, code=code, name=f"Calendar {code}", intervals=[(0, 480, 1080)]
    )


def _calendar(world: World, customer: Customer) -> Sample:
    # A customer's own calendar: the tenant boundary. Provider-wide calendars (no customer)
    # are readable by every signed-in user by design; tests/catalog/test_api.py covers that.
    calendar = _service_calendar(customer)
    return Sample(calendar, calendar.code)


def _working_interval(world: World, customer: Customer) -> Sample:
    calendar = _service_calendar(customer)
    return Sample(calendar.intervals.get(), calendar.code)


def _calendar_day(world: World, customer: Customer) -> Sample:
    calendar = _service_calendar(customer)
    name = f"closure-{calendar.code}"
    day = catalog_services.set_day(
        calendar, date=datetime.date(2026, 10, 9), kind=CalendarDay.Kind.CLOSED, name=name
    )
    return Sample(day, name)


def _sd_ticket(customer: Customer, title: str = "") -> Ticket:
    from opsassure.catalog.policies import ensure_default_policy
    from opsassure.servicedesk import services as sd_services

    ensure_default_policy(customer)
    return sd_services.create_ticket(
        actor=None,
        customer=customer,
        title=title or f"ticket-{customer.code}-{next(_counter)}",
        shared_with_customer=True,
    )


def _ticket(world: World, customer: Customer) -> Sample:
    ticket = _sd_ticket(customer)
    return Sample(ticket, ticket.title)


def _attachment(world: World, customer: Customer) -> Sample:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from opsassure.servicedesk import attachments

    name = f"log-{customer.code}-{next(_counter)}.txt"
    upload = SimpleUploadedFile(name, f"error log of {name}".encode(), "text/plain")
    attachment = attachments.add_attachment(_sd_ticket(customer), actor=None, upload=upload)
    return Sample(attachment, name)


def _sla_clock(world: World, customer: Customer) -> Sample:
    ticket = _sd_ticket(customer)
    return Sample(SlaClock.objects.get(ticket=ticket, metric="response", team=None), ticket.number)


def _escalation(world: World, customer: Customer) -> Sample:
    from opsassure.servicedesk import escalations

    ticket = _sd_ticket(customer)
    clock = SlaClock.objects.get(ticket=ticket, metric="response", team=None)
    escalation = escalations.fire(clock, "warning_1", now=timezone.now())
    assert escalation is not None
    return Sample(escalation, ticket.number)


def _rating(world: World, customer: Customer) -> Sample:
    from opsassure.servicedesk import services as sd_services

    ticket = _sd_ticket(customer)
    sd_services.transition(
        ticket, actor=None, to="resolved", resolution_code="solved", resolution_note="ok"
    )
    comment = f"rating-{customer.code}-{next(_counter)}"
    return Sample(sd_services.rate(ticket, actor=None, score=4, comment=comment), comment)


def _sla_policy_for(customer: Customer) -> SlaPolicy:
    code = f"sla-{customer.code.lower()}-{next(_counter)}"
    return sla_policies.create_policy(
        customer=customer,
        code=code,
        name=f"Policy {code}",
        calendar=_service_calendar(customer),
    )


def _sla_policy(world: World, customer: Customer) -> Sample:
    # Built on the customer's own calendar, so the policy's page names nothing of another.
    policy = _sla_policy_for(customer)
    return Sample(policy, policy.code)


def _service(world: World, customer: Customer) -> Sample:
    code = f"svc-{customer.code.lower()}-{next(_counter)}"
    parent = catalogue.create_service(customer=customer, code=f"{code}-root", name=f"Root {code}")
    service = catalogue.create_service(
        customer=customer, code=code, name=f"Service {code}", parent=parent
    )
    return Sample(service, code)


def _matrix_cell(world: World, customer: Customer) -> Sample:
    policy = _sla_policy_for(customer)
    return Sample(PriorityMatrixCell.objects.get(policy=policy, impact=1, urgency=1), policy.code)


def _sla_target(world: World, customer: Customer) -> Sample:
    policy = _sla_policy_for(customer)
    return Sample(SlaTarget.objects.get(policy=policy, priority=1), policy.code)


def _ola_target(world: World, customer: Customer) -> Sample:
    team = world.team_a if customer == world.customer_a else world.team_b
    policy = _sla_policy_for(customer)
    sla_policies.update_policy(
        policy,
        ola_targets=[sla_policies.OlaEntry(team=team, priority=1, response_minutes=10)],
    )
    return Sample(OlaTarget.objects.get(policy=policy), policy.code)


def _mailbox_for(customer: Customer) -> Mailbox:
    number = next(_counter)
    return Mailbox.objects.create(
        customer=customer,
        name=f"Mailbox-{customer.code}-{number}",
        address=f"desk-{customer.code.lower()}-{number}@desk.example.cn",
        imap_host="imap.example.cn",
        imap_username=f"desk-{number}",
        imap_password="imap-secret",
    )


def _mailbox(world: World, customer: Customer) -> Sample:
    mailbox = _mailbox_for(customer)
    return Sample(mailbox, mailbox.name)


def _inbound_mail(world: World, customer: Customer) -> Sample:
    subject = f"Inbound-{customer.code}-{next(_counter)}"
    mail = InboundMail.objects.create(
        mailbox=_mailbox_for(customer),
        message_id=f"<{subject}@example.cn>",
        raw=f"Subject: {subject}\r\n\r\nbody".encode(),
        subject=subject,
        state=InboundMail.State.FAILED,
        error="Unknown sender",
    )
    return Sample(mail, subject)


def _integration_for(customer: Customer) -> Integration:
    name = f"integration-{customer.code}-{next(_counter)}"
    return Integration.objects.create(name=name, kind="alertmanager", customer=customer)


def _integration(world: World, customer: Customer) -> Sample:
    integration = _integration_for(customer)
    return Sample(integration, integration.name)


def _alert_group(customer: Customer) -> AlertGroup:
    integration = _integration_for(customer)
    now = timezone.now()
    title = f"group-{customer.code}-{next(_counter)}"
    group = AlertGroup.objects.create(
        customer=customer,
        integration=integration,
        group_key=title,
        key_hash=title,
        title=title,
        started_at=now,
        last_alert_at=now,
    )
    return group


def _group(world: World, customer: Customer) -> Sample:
    group = _alert_group(customer)
    return Sample(group, group.title)


def _alert(world: World, customer: Customer) -> Sample:
    group = _alert_group(customer)
    now = timezone.now()
    name = f"Alert{customer.code}{next(_counter)}"
    alert = Alert.objects.create(
        integration=group.integration,
        customer=customer,
        fingerprint=name,
        status="firing",
        alertname=name,
        summary=name,
        labels={"alertname": name},
        starts_at=now,
        first_seen=now,
        last_seen=now,
        group=group,
    )
    return Sample(alert, name)


def _silence(world: World, customer: Customer) -> Sample:
    now = timezone.now()
    comment = f"silence-{customer.code}-{next(_counter)}"
    silence = alerting_services.create_silence(
        customer=customer,
        matchers_=['alertname="X"'],
        starts_at=now,
        ends_at=now + datetime.timedelta(hours=1),
        comment=comment,
        actor=None,
    )
    return Sample(silence, comment)


def _maintenance(world: World, customer: Customer) -> Sample:
    now = timezone.now()
    name = f"maintenance-{customer.code}-{next(_counter)}"
    window = alerting_services.create_maintenance_window(
        name=name,
        customer=customer,
        matchers_=['alertname="X"'],
        starts_at=now,
        ends_at=now + datetime.timedelta(hours=1),
    )
    return Sample(window, name)


def _routing_rule(world: World, customer: Customer) -> Sample:
    name = f"route-{customer.code}-{next(_counter)}"
    return Sample(RoutingRule.objects.create(customer=customer, name=name), name)


def _inhibition_rule(world: World, customer: Customer) -> Sample:
    name = f"inhibit-{customer.code}-{next(_counter)}"
    rule = InhibitionRule.objects.create(
        customer=customer,
        name=name,
        source_matchers=['alertname="A"'],
        target_matchers=['alertname="B"'],
    )
    return Sample(rule, name)


def _oncall_schedule_for(world: World, customer: Customer) -> Schedule:
    team = world.team_b if customer == world.customer_b else world.team_a
    name = f"Rota-{customer.code}-{next(_counter)}"
    return Schedule.objects.create(team=team, name=name)


def _oncall_schedule(world: World, customer: Customer) -> Sample:
    schedule = _oncall_schedule_for(world, customer)
    return Sample(schedule, schedule.name, provider_visible=True)


def _oncall_layer(world: World, customer: Customer) -> Sample:
    name = f"Layer-{customer.code}-{next(_counter)}"
    layer = Layer.objects.create(
        schedule=_oncall_schedule_for(world, customer),
        name=name,
        start_date=datetime.date(2026, 1, 1),
        handoff_time=datetime.time(9, 0),
    )
    return Sample(layer, name, provider_visible=True)


def _oncall_override(world: World, customer: Customer) -> Sample:
    reason = f"Override-{customer.code}-{next(_counter)}"
    start = timezone.now()
    override = Override.objects.create(
        schedule=_oncall_schedule_for(world, customer),
        user=world.engineer_a,
        start=start,
        end=start + datetime.timedelta(hours=2),
        reason=reason,
    )
    return Sample(override, reason, provider_visible=True)


def _oncall_handover(world: World, customer: Customer) -> Sample:
    notes = f"Handover-{customer.code}-{next(_counter)}"
    handover = Handover.objects.create(
        schedule=_oncall_schedule_for(world, customer),
        handoff_at=timezone.now(),
        outgoing=world.engineer_a,
        incoming=world.operator_a,
        notes=notes,
    )
    return Sample(handover, notes, provider_visible=True)


def _oncall_policy(world: World, customer: Customer) -> Sample:
    name = f"Policy-{customer.code}-{next(_counter)}"
    return Sample(EscalationPolicy.objects.create(name=name), name, provider_visible=True)


def _oncall_run(world: World, customer: Customer) -> Sample:
    title = f"Escalation-{customer.code}-{next(_counter)}"
    run = EscalationRun.objects.create(customer=customer, title=title, severity="high")
    return Sample(run, title)


def _destination(world: World, customer: Customer) -> Sample:
    name = f"Robot-{customer.code}-{next(_counter)}"
    destination = Destination.objects.create(
        customer=customer, name=name, kind="webhook", url="https://hooks.example.cn/in"
    )
    return Sample(destination, name)


def _notification(world: World, customer: Customer) -> Sample:
    subject = f"Notice-{customer.code}-{next(_counter)}"
    user = world.customer_b_user if customer == world.customer_b else world.customer_a_user
    notification = Notification.objects.create(
        customer=customer,
        user=user,
        channel="email",
        address=f"{user.username}@example.cn",
        subject=subject,
        body="body",
        dedup_key=subject,
        state=Notification.State.SENT,
    )
    return Sample(notification, subject)


def _notification_rule(world: World, customer: Customer) -> Sample:
    owner = world.customer_b_user if customer == world.customer_b else world.customer_a_user
    rule = NotificationRule.objects.create(user=owner, channels=["email"], order=next(_counter))
    return Sample(rule, str(rule.order), personal=True)


def _monitor_for(customer: Customer) -> Monitor:
    name = f"check-{customer.code}-{next(_counter)}"
    return Monitor.objects.create(
        customer=customer, name=name, kind="http", target=f"http://{name}.example.cn/"
    )


def _monitor(world: World, customer: Customer) -> Sample:
    monitor = _monitor_for(customer)
    return Sample(monitor, monitor.name)


def _check_result(world: World, customer: Customer) -> Sample:
    monitor = _monitor_for(customer)
    message = f"result-{customer.code}-{next(_counter)}"
    result = CheckResult.objects.create(
        monitor=monitor,
        probe=monitoring_tokens.ensure_local_probe(),
        started_at=timezone.now(),
        status=2,
        message=message,
    )
    return Sample(result, message)


def _probe(world: World, customer: Customer) -> Sample:
    probe, _token = monitoring_tokens.create_probe(
        name=f"probe-{customer.code}-{next(_counter)}", customer=customer
    )
    return Sample(probe, probe.name)


FACTORIES: dict[type[models.Model], Callable[[World, Customer], Sample]] = {
    Customer: _customer,
    CustomerContact: _contact,
    Team: _team,
    User: _user,
    ApiToken: _token,
    AuditEvent: _audit_event,
    ConfigurationItem: _configuration_item,
    Relation: _relation,
    CIChange: _ci_change,
    CIType: _ci_type,
    Tag: _tag,
    Supplier: _supplier,
    Location: _location,
    MaintenanceContract: _contract,
    ConfigAuditRule: _audit_rule,
    ConfigAuditRun: _audit_run,
    ConfigAuditScore: _audit_score,
    ConfigAuditFinding: _audit_finding,
    Discovery: _discovery,
    Discrepancy: _discrepancy,
    ServiceCalendar: _calendar,
    WorkingInterval: _working_interval,
    CalendarDay: _calendar_day,
    Ticket: _ticket,
    Attachment: _attachment,
    SlaClock: _sla_clock,
    Escalation: _escalation,
    Rating: _rating,
    Service: _service,
    SlaPolicy: _sla_policy,
    PriorityMatrixCell: _matrix_cell,
    SlaTarget: _sla_target,
    OlaTarget: _ola_target,
    Mailbox: _mailbox,
    InboundMail: _inbound_mail,
    Integration: _integration,
    AlertGroup: _group,
    Alert: _alert,
    Silence: _silence,
    MaintenanceWindow: _maintenance,
    RoutingRule: _routing_rule,
    InhibitionRule: _inhibition_rule,
    Schedule: _oncall_schedule,
    Layer: _oncall_layer,
    Override: _oncall_override,
    Handover: _oncall_handover,
    EscalationPolicy: _oncall_policy,
    EscalationRun: _oncall_run,
    Destination: _destination,
    Notification: _notification,
    NotificationRule: _notification_rule,
    Monitor: _monitor,
    CheckResult: _check_result,
    Probe: _probe,
}


# Monitoring, metrics part (agents, agent tokens, metric series, threshold rules).
from tests.monitoring.factories_metrics import METRICS_FACTORIES  # noqa: E402

FACTORIES.update(METRICS_FACTORIES)  # type: ignore[arg-type]
