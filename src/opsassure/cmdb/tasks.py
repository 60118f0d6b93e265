"""CMDB background tasks (thin: the work lives in ``cmdb.compliance``)."""

from __future__ import annotations

from celery import shared_task

from opsassure.cmdb import compliance
from opsassure.cmdb.models import ConfigAuditRun


@shared_task(name="opsassure.cmdb.tasks.run_config_audit", ignore_result=True)
def run_config_audit(run_id: int | None = None) -> int | None:
    """Fill run ``run_id`` (made by a user's request), or start the scheduled daily run.

    Idempotent: a run that is no longer "running" is left alone (a redelivered message), and
    the scheduled path does nothing while a run started less than an hour ago is running.
    Returns the id of the run it completed, or None when it did nothing.
    """
    if run_id is None:
        run, created = compliance.start_run(actor=None)
        if not created:
            return None
    else:
        found = ConfigAuditRun.objects.filter(
            pk=run_id, status=ConfigAuditRun.Status.RUNNING
        ).first()
        if found is None:
            return None
        run = found
    return compliance.run_audit(run=run).pk
