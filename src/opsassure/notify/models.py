"""Notifications outbox: destinations (bots, gateways), per-user rules, and the outbox rows.

Every notification any module sends is a ``Notification`` row written in the caller's
transaction (``services.enqueue``) and sent by a worker (``sending``). The row is the truth:
its state, attempts, next attempt and the provider's reply; the broker only says "look at
row N", and the sweep re-drives whatever is due or stuck.
"""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Any, ClassVar, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from opsassure.core.models.base import AuditedModel, TenantQuerySet

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from opsassure.core.models.users import User


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")
    DINGTALK = "dingtalk", _("DingTalk robot")
    WECOM = "wecom", _("WeCom group robot")
    FEISHU = "feishu", _("Feishu / Lark bot")
    SMS = "sms", _("SMS")
    VOICE = "voice", _("Voice call")


# Channels a user can be reached on directly (the address comes from the user's profile).
USER_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.VOICE)
# Group bots limited by their vendors (20 messages a minute per robot).
RATE_LIMITED_BY_DEFAULT = (Channel.DINGTALK, Channel.WECOM)
DEFAULT_BOT_RATE_LIMIT = 20


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    HIGH = "high", _("High")
    WARNING = "warning", _("Warning")
    INFO = "info", _("Info")


class Destination(AuditedModel):
    """Where group messages go: a robot, a webhook, an SMS/voice gateway, a mailing list."""

    provider_rows_visible = True
    # Robot URLs carry their access token: neither they nor the secret reach the audit trail.
    audit_exclude: ClassVar[frozenset[str]] = AuditedModel.audit_exclude | {"secret", "url"}

    customer = models.ForeignKey(
        "core.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
        help_text=_("Empty: provider-wide."),
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Channel.choices)
    url = models.CharField(
        _("URL or address"),
        max_length=2000,
        blank=True,
        help_text=_("Robot or webhook URL; e-mail address for an e-mail destination."),
    )
    secret = models.CharField(
        _("secret"),
        max_length=500,
        blank=True,
        help_text=_("Signing secret (DingTalk, Feishu, webhook HMAC)."),
    )
    settings = models.JSONField(
        _("settings"),
        default=dict,
        blank=True,
        help_text=_(
            "Per kind: at_mobiles / mentioned_list (robots); the HTTP gateway template for SMS "
            "and voice."
        ),
    )
    rate_limit_per_minute = models.PositiveIntegerField(
        _("rate limit per minute"),
        null=True,
        blank=True,
        help_text=_("Empty: 20 for DingTalk and WeCom robots, unlimited otherwise; 0: unlimited."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("notification destination")
        verbose_name_plural = _("notification destinations")
        indexes = [
            models.Index(fields=["customer", "kind"], name="notify_dest_customer_kind_idx"),
            models.Index(fields=["name"], name="notify_dest_name_idx"),
            models.Index(fields=["kind", "enabled"], name="notify_dest_kind_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_rate_limit(self) -> int:
        """Messages a minute this destination accepts (0: unlimited)."""
        if self.rate_limit_per_minute is not None:
            return self.rate_limit_per_minute
        return DEFAULT_BOT_RATE_LIMIT if self.kind in RATE_LIMITED_BY_DEFAULT else 0

    def get_absolute_url(self) -> str:
        return reverse("notify:destination-detail", args=[self.pk])

    @property
    def masked_secret(self) -> str:
        return mask(self.secret)

    @property
    def masked_url(self) -> str:
        return mask_url(self.url) if self.kind != Channel.EMAIL else self.url


def mask(secret: str) -> str:
    """What UI and API show of a secret: never the whole of it."""
    if not secret:
        return ""
    if len(secret) <= 8:
        return "••••"
    return f"{secret[:3]}••••{secret[-2:]}"


def mask_url(url: str) -> str:
    """A robot URL carries its token (``access_token=…``, ``key=…``, ``/hook/<id>``): show the
    host and the shape, never the token."""
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return mask(url)
    segments = parts.path.split("/")
    if segments and len(segments[-1]) >= 16:
        segments[-1] = mask(segments[-1])
    query = "&".join(
        f"{name}={mask(value)}" for name, value in urllib.parse.parse_qsl(parts.query, True)
    )
    masked = f"{parts.scheme}://{parts.hostname or ''}{':' + str(parts.port) if parts.port else ''}"
    return masked + "/".join(segments) + (f"?{query}" if query else "")


class OwnRowsQuerySet(models.QuerySet[Any]):
    """Personal rows: a user sees only their own (superusers see all)."""

    def visible_to(self, user: User | AnonymousUser) -> Self:
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(user=user.pk)


class NotificationRule(AuditedModel):
    """One user's choice: for these severities, reach me on these channels (quiet hours aside)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_rules",
        verbose_name=_("user"),
    )
    severities = models.JSONField(
        _("severities"), default=list, blank=True, help_text=_("Empty: every severity.")
    )
    channels = models.JSONField(_("channels"), default=list)
    quiet_start = models.TimeField(
        _("quiet hours start"), null=True, blank=True, help_text=_("In your time zone.")
    )
    quiet_end = models.TimeField(_("quiet hours end"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    enabled = models.BooleanField(_("enabled"), default=True)

    objects = OwnRowsQuerySet.as_manager()

    class Meta:
        ordering = ["user", "order", "pk"]
        verbose_name = _("notification rule")
        verbose_name_plural = _("notification rules")
        indexes = [models.Index(fields=["user", "order"], name="notify_rule_user_order_idx")]

    def __str__(self) -> str:
        return f"{self.user}: {', '.join(self.severities) or '*'} → {', '.join(self.channels)}"

    def get_absolute_url(self) -> str:
        return reverse("notify:rule-edit", args=[self.pk])

    def matches(self, severity: str) -> bool:
        return self.enabled and (not self.severities or severity in self.severities)


class NotificationQuerySet(TenantQuerySet):
    """Staff: the customers they serve plus provider-wide rows. Customer users: their own."""

    def visible_to(self, user: User | AnonymousUser) -> Self:
        queryset = super().visible_to(user)
        customer_id = getattr(user, "customer_id", None)
        if customer_id is not None:
            # Pages to provider staff (their phones, their escalations) stay internal.
            queryset = queryset.filter(
                Q(user__customer=customer_id) | Q(destination__customer=customer_id)
            )
        return queryset

    def for_source(self, obj: models.Model) -> Self:
        return self.filter(source_type=source_type_of(obj), source_id=str(obj.pk))


def source_type_of(obj: models.Model) -> str:
    """``"<app_label>.<model_name>"``, e.g. ``"servicedesk.ticket"``."""
    return f"{obj._meta.app_label}.{obj._meta.model_name}"


class Notification(models.Model):
    """The outbox row: one message to one address on one channel."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        HELD = "held", _("Held (rate limit)")
        DIGESTED = "digested", _("Digested")
        CANCELLED = "cancelled", _("Cancelled")

    provider_rows_visible = True

    customer = models.ForeignKey(
        "core.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("user"),
    )
    destination = models.ForeignKey(
        Destination,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("destination"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    address = models.CharField(_("address"), max_length=2000, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    severity = models.CharField(
        _("severity"), max_length=10, choices=Severity.choices, default=Severity.INFO
    )
    subject = models.CharField(_("subject"), max_length=500)
    body = models.TextField(_("body"), blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # Earliest instant a worker may claim the row: backoff after a failure, end of quiet hours.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    provider_reply = models.TextField(_("provider reply"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    dedup_key = models.CharField(_("deduplication key"), max_length=255, unique=True)
    source_type = models.CharField(_("source type"), max_length=100, blank=True)
    source_id = models.CharField(_("source id"), max_length=64, blank=True)
    # Bumped by every claim: a worker finishes its attempt only if the fence is still its own.
    fence = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    digest = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="digested",
        verbose_name=_("digest"),
        help_text=_("The summary message this held notification was folded into."),
    )

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="notify_ntf_state_next_idx"),
            models.Index(fields=["source_type", "source_id"], name="notify_ntf_source_idx"),
            models.Index(
                fields=["destination", "state", "sent_at"], name="notify_ntf_dest_sent_idx"
            ),
            models.Index(fields=["customer", "created_at"], name="notify_ntf_customer_idx"),
            models.Index(fields=["user", "created_at"], name="notify_ntf_user_idx"),
            models.Index(fields=["channel", "created_at"], name="notify_ntf_channel_idx"),
            models.Index(fields=["severity", "created_at"], name="notify_ntf_severity_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("notify:notification-detail", args=[self.pk])

    @property
    def shown_address(self) -> str:
        """The address as the UI and API show it (robot URLs carry their token)."""
        if self.channel in (Channel.EMAIL, Channel.SMS, Channel.VOICE):
            return self.address
        return mask_url(self.address)
