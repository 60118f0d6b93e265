"""The Celery app. Messages only say "go look at row N"; the truth stays in the database."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsassure.settings")

app = Celery("opsassure")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [
    Queue(name, Exchange(name, type="direct"), routing_key=name)
    for name in ("alerts", "notify", "automation", "reports", "default")
]
app.conf.task_routes = {
    "opsassure.*.tasks.alert_*": {"queue": "alerts"},
    "opsassure.*.tasks.notify_*": {"queue": "notify"},
    "opsassure.*.tasks.automation_*": {"queue": "automation"},
    "opsassure.*.tasks.report_*": {"queue": "reports"},
}
app.autodiscover_tasks()
