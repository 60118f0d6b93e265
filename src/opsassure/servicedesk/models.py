"""Tickets (incidents and service requests), their timeline, SLA clocks, mail and ratings.

Truth lives here: an SLA deadline is a column of ``SlaClock`` computed when the clock starts,
pauses, resumes or its target changes — never re-derived from a calendar later, so a calendar
edit does not rewrite history. The breach sweep reads ``SlaClock.next_check_at``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from opsassure.catalog.models import Impact, Priority, SlaMetric, Urgency
from opsassure.core.models import AuditedModel, TenantQuerySet
from opsassure.servicedesk.querysets import (
    AttachmentQuerySet,
    SlaClockQuerySet,
    TicketChildQuerySet,
    TicketEventQuerySet,
    TicketQuerySet,
)


class TicketKind(models.TextChoices):
    INCIDENT = "incident", _("Incident")
    REQUEST = "request", _("Service request")


class TicketStatus(models.TextChoices):
    NEW = "new", _("New")
    ASSIGNED = "assigned", _("Assigned")
    IN_PROGRESS = "in_progress", _("In progress")
    PENDING = "pending", _("Pending")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (
    TicketStatus.NEW,
    TicketStatus.ASSIGNED,
    TicketStatus.IN_PROGRESS,
    TicketStatus.PENDING,
    TicketStatus.REOPENED,
)


class PendingReason(models.TextChoices):
    CUSTOMER = "customer", _("Waiting for the customer")
    VENDOR = "vendor", _("Waiting for a vendor")
    CHANGE = "change", _("Waiting for a change")


class Channel(models.TextChoices):
    PORTAL = "portal", _("Portal")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    API = "api", _("API")
    MONITORING = "monitoring", _("Monitoring")
    CHAT = "chat", _("Chat")


class ResolutionCode(models.TextChoices):
    SOLVED = "solved", _("Solved (permanent fix)")
    WORKAROUND = "workaround", _("Solved by workaround")
    NO_FAULT = "no_fault", _("No fault found")
    USER_ERROR = "user_error", _("User error / advice given")
    FULFILLED = "fulfilled", _("Request fulfilled")
    DUPLICATE = "duplicate", _("Duplicate")
    VENDOR = "vendor", _("Fixed by vendor")


class Ticket(AuditedModel):
    """An incident or a service request of one customer."""

    customer = models.ForeignKey(
        "core.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    kind = models.CharField(
        _("type"), max_length=16, choices=TicketKind.choices, default=TicketKind.INCIDENT
    )
    number = models.CharField(_("number"), max_length=32, unique=True, editable=False)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    pending_reason = models.CharField(
        _("pending reason"), max_length=16, choices=PendingReason.choices, blank=True
    )
    channel = models.CharField(
        _("channel"), max_length=16, choices=Channel.choices, default=Channel.PORTAL
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="requested_tickets",
        verbose_name=_("requester"),
    )
    requester_contact = models.ForeignKey(
        "core.CustomerContact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requester (contact)"),
    )
    requester_name = models.CharField(_("requester name"), max_length=200, blank=True)
    requester_email = models.EmailField(_("requester e-mail"), blank=True)
    shared_with_customer = models.BooleanField(
        _("visible to all of the customer's users"),
        default=False,
        help_text=_("Otherwise a customer user sees only the tickets they requested."),
    )
    service = models.ForeignKey(
        "catalog.Service",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("service"),
    )
    cis = models.ManyToManyField(
        "cmdb.ConfigurationItem",
        blank=True,
        related_name="tickets",
        verbose_name=_("affected configuration items"),
    )
    category = models.CharField(_("category"), max_length=100, blank=True)
    impact = models.PositiveSmallIntegerField(
        _("impact"), choices=Impact.choices, default=Impact.MEDIUM
    )
    urgency = models.PositiveSmallIntegerField(
        _("urgency"), choices=Urgency.choices, default=Urgency.MEDIUM
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.P3
    )
    sla_policy = models.ForeignKey(
        "catalog.SlaPolicy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("SLA policy"),
    )
    team = models.ForeignKey(
        "core.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("assignment team"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    support_level = models.PositiveSmallIntegerField(
        _("support level"), default=1, validators=[MinValueValidator(1), MaxValueValidator(3)]
    )
    is_major = models.BooleanField(_("major incident"), default=False)
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent ticket"),
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    resolution_code = models.CharField(
        _("resolution code"), max_length=16, choices=ResolutionCode.choices, blank=True
    )
    resolution_note = models.TextField(_("resolution note"), blank=True)
    # Lifecycle instants (UTC). ``responded_at``: first public reply or the first move to
    # in progress by the provider; ``arrived_at``: an engineer recorded arriving on site.
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived on site at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # Denormalised from the clocks for queue ordering and KPIs (one row, no join).
    response_due = models.DateTimeField(_("response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    sla_breached = models.BooleanField(_("SLA breached"), default=False)
    # Business seconds (policy calendar) from acceptance to response / resolution, pending
    # time excluded; wall seconds likewise. Written when the clock stops; KPIs read them.
    response_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    response_wall_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_wall_seconds = models.PositiveIntegerField(null=True, blank=True)
    # The external thread (first Message-ID we sent or received) for mail threading.
    mail_thread_id = models.CharField(max_length=255, blank=True, editable=False)

    objects = TicketQuerySet.as_manager()

    audit_exclude = frozenset(
        {
            "created_at",
            "updated_at",
            "response_business_seconds",
            "resolution_business_seconds",
            "response_wall_seconds",
            "resolution_wall_seconds",
            "mail_thread_id",
        }
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        # docs/servicedesk-core.md "Performance": queues are index range scans in deadline
        # order (partial on open tickets), KPIs read a customer's period by created/resolved.
        indexes = [
            models.Index(fields=["customer", "status", "created_at"], name="sd_ticket_cust_idx"),
            # Queue counts: index-only scans (the tenant's customer column is the last key).
            models.Index(fields=["assignee", "status", "customer"], name="sd_ticket_assignee_idx"),
            models.Index(fields=["team", "status", "customer"], name="sd_ticket_team_idx"),
            models.Index(fields=["status", "resolution_due"], name="sd_ticket_due_idx"),
            models.Index(fields=["customer", "resolved_at"], name="sd_ticket_resolved_idx"),
            models.Index(fields=["customer", "created_at"], name="sd_ticket_created_idx"),
            # Open queues in deadline order: a page reads 50 entries of these. (A customer
            # column in them would make PostgreSQL sort instead: its IN list is no order.)
            models.Index(
                fields=["team", "resolution_due"],
                condition=Q(status__in=OPEN_STATUSES),
                name="sd_ticket_team_open_idx",
            ),
            models.Index(
                fields=["assignee", "resolution_due"],
                condition=Q(status__in=OPEN_STATUSES),
                name="sd_ticket_assignee_open_idx",
            ),
            # "assignee IS NULL" fixes no sort order for PostgreSQL: its own partial index.
            models.Index(
                fields=["resolution_due"],
                condition=Q(status__in=OPEN_STATUSES, assignee__isnull=True),
                name="sd_ticket_unassigned_idx",
            ),
        ]
        permissions = [
            ("work_ticket", _("Can work tickets (assign, transition, internal notes)")),
            ("view_internal_notes", _("Can see internal notes")),
            ("view_customer_tickets", _("Can see all tickets of their customer")),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("servicedesk:ticket-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TicketSequence(models.Model):
    """The last number issued per (prefix, year), e.g. INC-2026-000123; taken under a lock."""

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prefix", "year"], name="sd_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


class TicketEvent(models.Model):
    """One entry of a ticket's timeline. Append-only."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        REPLY = "reply", _("Public reply")
        NOTE = "note", _("Internal note")
        STATUS = "status", _("Status change")
        ASSIGNMENT = "assignment", _("Assignment")
        FIELD = "field", _("Field change")
        SLA = "sla", _("SLA event")
        ESCALATION = "escalation", _("Escalation")
        MAIL_IN = "mail_in", _("E-mail received")
        MAIL_OUT = "mail_out", _("E-mail sent")
        ATTACHMENT = "attachment", _("Attachment")
        RATING = "rating", _("Rating")

    tenant_field = "ticket__customer"
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", verbose_name=_("ticket")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    is_public = models.BooleanField(
        _("visible to the customer"), default=True, help_text=_("False for internal notes.")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    body = models.TextField(_("text"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    objects = TicketEventQuerySet.as_manager()

    class Meta:
        ordering = ["ticket_id", "created_at", "id"]
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="sd_event_ticket_idx"),
            # KPI "first-contact resolution": a ticket's hand-overs, per resolved ticket.
            models.Index(
                fields=["ticket"], condition=Q(kind="assignment"), name="sd_event_assignment_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # Stored per customer; the public name lives in ``filename``, never in the path.
    return f"attachments/{instance.ticket.customer_id}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    """A file on a ticket, served only to those who may see the ticket (and its event)."""

    tenant_field = "ticket__customer"
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("ticket")
    )
    event = models.ForeignKey(
        TicketEvent,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("timeline entry"),
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64, editable=False)
    is_public = models.BooleanField(_("visible to the customer"), default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        ordering = ["ticket_id", "created_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class SlaClock(models.Model):
    """One SLA (or OLA) clock of a ticket: response, on-site arrival or resolution.

    Business time banked so far is ``elapsed_seconds`` plus, while running, the business
    time since ``running_since``. ``due_at`` is the instant the target is reached if the
    clock keeps running (NULL while paused or stopped). ``next_check_at`` is the earliest
    instant the sweep has something to do (a warning threshold or the breach), NULL when
    nothing is left. ``fence`` is bumped by every change so a sweep acts on a clock at most
    once per state (conditional UPDATE … WHERE fence = read value).
    """

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        STOPPED = "stopped", _("Stopped")

    tenant_field = "ticket__customer"
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="clocks", verbose_name=_("ticket")
    )
    metric = models.CharField(_("metric"), max_length=16, choices=SlaMetric.choices)
    team = models.ForeignKey(
        "core.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team (OLA)"),
        help_text=_("Empty for the customer SLA; a team for its internal OLA clock."),
    )
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.RUNNING)
    calendar = models.ForeignKey(
        "catalog.ServiceCalendar", on_delete=models.PROTECT, related_name="+"
    )
    calendar_revision = models.PositiveIntegerField(default=1)
    target_minutes = models.PositiveIntegerField(_("target (business minutes)"))
    started_at = models.DateTimeField(_("started at"))
    elapsed_seconds = models.PositiveIntegerField(_("business seconds banked"), default=0)
    wall_seconds = models.PositiveIntegerField(_("wall seconds banked"), default=0)
    running_since = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    warn_first_at = models.DateTimeField(null=True, blank=True)
    warn_second_at = models.DateTimeField(null=True, blank=True)
    warnings_sent = models.PositiveSmallIntegerField(default=0)
    next_check_at = models.DateTimeField(null=True, blank=True)
    breached = models.BooleanField(_("breached"), default=False)
    breached_at = models.DateTimeField(_("breached at"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    fence = models.PositiveIntegerField(default=0)

    objects = SlaClockQuerySet.as_manager()

    class Meta:
        ordering = ["ticket_id", "metric"]
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "metric"],
                condition=Q(team__isnull=True),
                name="sd_clock_unique_sla",
            ),
            models.UniqueConstraint(
                fields=["ticket", "metric", "team"],
                condition=Q(team__isnull=False),
                name="sd_clock_unique_ola",
            ),
        ]
        indexes = [
            # The sweep: running clocks due by now (an idle sweep reads an empty range).
            models.Index(
                fields=["next_check_at"],
                condition=Q(state="running"),
                name="sd_clock_due_idx",
            ),
            # KPI "all targets met": is any SLA clock of a resolved ticket breached?
            models.Index(
                fields=["ticket"],
                condition=Q(team__isnull=True, breached=True),
                name="sd_clock_breached_idx",
            ),
            # "Breaching soon": running SLA clocks past their first warning threshold.
            models.Index(
                fields=["warn_first_at", "ticket"],
                condition=Q(state="running", team__isnull=True),
                name="sd_clock_warn_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.metric}"


class Escalation(models.Model):
    """An escalation that fired (functional: next support level; hierarchical: management)."""

    class Kind(models.TextChoices):
        FUNCTIONAL = "functional", _("Functional (next support level)")
        HIERARCHICAL = "hierarchical", _("Hierarchical (management)")

    tenant_field = "ticket__customer"
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="escalations", verbose_name=_("ticket")
    )
    clock = models.ForeignKey(
        SlaClock, on_delete=models.SET_NULL, null=True, blank=True, related_name="escalations"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    trigger = models.CharField(_("trigger"), max_length=32)  # warning_1, warning_2, breach, manual
    actions = models.JSONField(_("actions"), default=list)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = TicketChildQuerySet.as_manager()

    class Meta:
        ordering = ["ticket_id", "created_at"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        constraints = [
            # The sweep may run on several workers: one escalation per clock and trigger.
            models.UniqueConstraint(
                fields=["clock", "trigger"],
                condition=Q(clock__isnull=False),
                name="sd_escalation_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.trigger}"


class Rating(models.Model):
    """The requester's satisfaction rating of a resolved ticket: one per ticket."""

    tenant_field = "ticket__customer"
    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, related_name="rating", verbose_name=_("ticket")
    )
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rated by"),
    )
    created_at = models.DateTimeField(_("rated at"), auto_now_add=True)

    objects = TicketChildQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="sd_rating_score_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.score}"


class Mailbox(AuditedModel):
    """An IMAP mailbox polled for tickets, and the SMTP identity replies are sent from."""

    class UnknownSender(models.TextChoices):
        REJECT = "reject", _("Store for inspection, open no ticket")
        CONTACT = "contact", _("Open a ticket for the mailbox's customer")

    provider_rows_visible = True
    customer = models.ForeignKey(
        "core.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
        help_text=_("Empty: a provider-wide mailbox; senders are matched to customers."),
    )
    name = models.CharField(_("name"), max_length=100)
    address = models.EmailField(_("address"))
    imap_host = models.CharField(_("IMAP host"), max_length=255)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_ssl = models.BooleanField(_("IMAP over TLS"), default=True)
    imap_username = models.CharField(_("IMAP user"), max_length=255)
    imap_password = models.CharField(_("IMAP password"), max_length=255)
    imap_folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    unknown_sender = models.CharField(
        _("unknown senders"),
        max_length=8,
        choices=UnknownSender.choices,
        default=UnknownSender.REJECT,
    )
    default_team = models.ForeignKey(
        "core.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default team"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_uid = models.PositiveBigIntegerField(default=0, editable=False)
    uid_validity = models.PositiveBigIntegerField(default=0, editable=False)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    objects = TenantQuerySet.as_manager()

    # The IMAP password never reaches the audit trail (nor any API answer).
    audit_exclude = frozenset(
        {
            "created_at",
            "updated_at",
            "imap_password",
            "last_uid",
            "uid_validity",
            "last_polled_at",
            "last_error",
        }
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"

    def get_absolute_url(self) -> str:
        return reverse("sdmail:mailbox-detail", args=[self.pk])


class InboundMail(models.Model):
    """Every fetched message, raw, before and after processing: nothing is ever lost."""

    class State(models.TextChoices):
        NEW = "new", _("New")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored (auto-reply or loop)")
        FAILED = "failed", _("Failed — kept for inspection")

    tenant_field = "mailbox__customer"
    provider_rows_visible = True
    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.PROTECT, related_name="messages", verbose_name=_("mailbox")
    )
    uid = models.PositiveBigIntegerField(_("IMAP UID"), null=True, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=998)
    raw = models.BinaryField(_("raw message"))
    sender = models.CharField(_("from"), max_length=320, blank=True)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.NEW)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inbound_mails",
        verbose_name=_("ticket"),
    )
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    # While processing: the claim's expiry; after a failure: when the sweep may retry (NULL:
    # no retry left). Claimed with a conditional UPDATE on ``attempts``.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("inbound e-mail")
        verbose_name_plural = _("inbound e-mails")
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "message_id"], name="sd_inbound_unique_message"
            )
        ]
        indexes = [
            models.Index(fields=["state", "received_at"], name="sd_inbound_state_idx"),
            models.Index(fields=["state", "next_attempt_at"], name="sd_inbound_retry_idx"),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_id

    def get_absolute_url(self) -> str:
        return reverse("sdmail:inbound-detail", args=[self.pk])


class OutboundMail(models.Model):
    """A mail to send (transactional outbox): written with the change, sent by a worker."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    tenant_field = "ticket__customer"
    ticket = models.ForeignKey(
        Ticket,
        on_delete=models.CASCADE,
        related_name="outbound_mails",
        verbose_name=_("ticket"),
    )
    to = models.JSONField(_("to"), default=list)
    subject = models.CharField(_("subject"), max_length=998)
    body = models.TextField(_("body"))
    message_id = models.CharField(_("Message-ID"), max_length=998, unique=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Earliest instant a sender may claim the row (claim lease, then retry backoff).
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)

    objects = TicketChildQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("outbound e-mail")
        verbose_name_plural = _("outbound e-mails")
        indexes = [
            models.Index(fields=["state", "created_at"], name="sd_outbound_state_idx"),
            models.Index(fields=["state", "next_attempt_at"], name="sd_outbound_retry_idx"),
        ]

    def __str__(self) -> str:
        return self.subject
