from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from opsassure.notify.models import Channel, Notification, Severity


class NotificationFilterSet(django_filters.FilterSet):
    """Filters of the outbox list (each one has an index)."""

    state = django_filters.ChoiceFilter(label=_("state"), choices=Notification.State.choices)
    channel = django_filters.ChoiceFilter(label=_("channel"), choices=Channel.choices)
    severity = django_filters.ChoiceFilter(label=_("severity"), choices=Severity.choices)

    class Meta:
        model = Notification
        fields = ["state", "channel", "severity"]
