"""Signals other apps listen to (alerting updates its alert group). Sent after commit, with
``sender=EscalationRun`` and the keyword arguments ``run`` and ``user`` (None: the system)."""

from __future__ import annotations

from django.dispatch import Signal

escalation_acknowledged = Signal()
escalation_resolved = Signal()
