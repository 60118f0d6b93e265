"""Configuration audit (配置项审核, GB/T 28827.1 §9.6; ISO/IEC 20000-1 configuration audit).

Every enabled ``ConfigAuditRule`` is evaluated over every CI in its scope (its CI types, or all
types). A run stores, in one transaction at the end:

* one ``ConfigAuditScore`` per (rule, customer, CI type): CIs checked and CIs failing;
* one ``ConfigAuditFinding`` per failing (rule, CI) with a short detail;
* totals on the run: distinct CIs checked, distinct CIs with at least one finding.

Scope: **retired and disposed CIs are out of scope for every rule** — they are neither checked
nor counted as the "other" CI of a duplicate. Shared provider CIs (no customer) are audited and
scored under customer NULL, visible to provider staff only.

Every rule kind is a handful of set-based SQL queries over indexed columns; only failing rows
(and, for "required attributes", rows pre-selected in SQL) come back to Python, so a run over
100,000 CIs is a few seconds of database work, not 100,000 round trips. Failure counts are
taken from the same failing rows that become findings, so a score and its findings always
agree even when CIs change while a run is computing.

Rule kinds (implemented in ``cmdb/audit_kinds.py``):

* ``missing_required``: a common field named in the type's ``required_fields`` is empty/NULL,
  or an attribute marked ``required`` in the type's schema is absent, null or "".
* ``not_verified``: ``verified_at`` is NULL or older than ``params["days"]`` (default 90).
* ``duplicate_serial`` / ``duplicate_hostname`` / ``duplicate_ip``: a non-empty value shared
  with another active CI **of the same customer** (shared provider CIs form their own group).
  Serial numbers compare exactly; hostnames case-insensitively (DNS names); IP addresses over
  both ``primary_ip`` and every ``CIAddress``.
* ``orphan``: no relation in either direction.
* ``warranty_expired_in_use``: status "in use" and ``warranty_end`` before today (the
  provider's local date, settings.TIME_ZONE).
* ``custom``: the rule's ``failing_filter`` (allow-listed, see ``audit_rules``) selects the
  failing CIs.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from opsassure.cmdb.audit_kinds import EVALUATORS, Context, Scope
from opsassure.cmdb.builtin import BUILTIN_RULES, type_display_name
from opsassure.cmdb.models import (
    ConfigAuditFinding,
    ConfigAuditRule,
    ConfigAuditRun,
    ConfigAuditScore,
    ConfigurationItem,
    Lifecycle,
)
from opsassure.core.models import User
from opsassure.core.tenancy import scoped

logger = logging.getLogger(__name__)

OUT_OF_SCOPE = (Lifecycle.RETIRED, Lifecycle.DISPOSED)
# A run still "running" after this long is considered abandoned (its worker died).
STALE_AFTER = dt.timedelta(hours=1)
FINDINGS_BATCH = 10_000
TREND_RUNS = 30

Group = tuple[int | None, int]  # (customer id, CI type id)


def rule_display_name(code: str, stored_name: str) -> str:
    """Built-in rules are shown in the reader's language; others as their author named them."""
    builtin = BUILTIN_RULES.get(code)
    return str(builtin[0]) if builtin else stored_name


def is_builtin_rule(rule: ConfigAuditRule) -> bool:
    return rule.code in BUILTIN_RULES


# --- runs ---------------------------------------------------------------------------------------


def abandon_stale_runs(now: dt.datetime | None = None) -> int:
    """Mark runs "running" for longer than STALE_AFTER as failed (their worker died)."""
    now = now or timezone.now()
    return ConfigAuditRun.objects.filter(
        status=ConfigAuditRun.Status.RUNNING, started_at__lt=now - STALE_AFTER
    ).update(
        status=ConfigAuditRun.Status.FAILED,
        finished_at=now,
        error=_("abandoned: no result after %(minutes)d minutes")
        % {"minutes": STALE_AFTER.total_seconds() // 60},
    )


def start_run(*, actor: User | None = None) -> tuple[ConfigAuditRun, bool]:
    """A run row in "running" state for a worker to fill, or the fresh one already running.

    Returns ``(run, created)``. A run running for less than STALE_AFTER is reused, so a
    double click or a second scheduler tick never starts a parallel audit.
    """
    now = timezone.now()
    with transaction.atomic():
        abandon_stale_runs(now)
        current = (
            ConfigAuditRun.objects.filter(status=ConfigAuditRun.Status.RUNNING)
            .order_by("-started_at", "-id")
            .first()
        )
        if current is not None:
            return current, False
        run = ConfigAuditRun.objects.create(
            started_at=now, status=ConfigAuditRun.Status.RUNNING, triggered_by=actor
        )
    return run, True


def request_audit(*, actor: User | None) -> tuple[ConfigAuditRun, bool]:
    """Start a run for a user (UI button, API) and have a worker fill it after commit."""
    # tasks.py imports this module for run_audit; the reverse import stays local.
    from opsassure.cmdb.tasks import run_config_audit
    from opsassure.core.jobs import enqueue_on_commit

    with transaction.atomic():
        run, created = start_run(actor=actor)
        if created:
            enqueue_on_commit(run_config_audit, run.pk)
    return run, created


def _active_items(customer_ids: Iterable[int] | None) -> QuerySet[ConfigurationItem]:
    base = ConfigurationItem.objects.exclude(status__in=OUT_OF_SCOPE)
    if customer_ids is not None:
        base = base.filter(customer_id__in=list(customer_ids))
    return base


@dataclass
class _Result:
    scores: list[ConfigAuditScore]
    findings: list[tuple[int, int, str]]  # (rule id, ci id, detail)
    checked: int
    failed: int


def _evaluate(run: ConfigAuditRun, customer_ids: Iterable[int] | None) -> _Result:
    now = timezone.now()
    base = _active_items(customer_ids)
    ctx = Context(
        base=base, now=now, today=timezone.localdate(now, timezone.get_default_timezone())
    )
    # CIs per (customer, type): one GROUP BY shared by every rule.
    group_sizes: dict[Group, int] = {
        (row["customer_id"], row["ci_type_id"]): row["n"]
        for row in base.order_by().values("customer_id", "ci_type_id").annotate(n=Count("id"))
    }
    rules = list(
        ConfigAuditRule.objects.filter(is_enabled=True)
        .prefetch_related("ci_types")
        .order_by("code")
    )
    result = _Result(scores=[], findings=[], checked=0, failed=0)
    checked_types: set[int] = set()
    all_types = False
    failing_cis: set[int] = set()
    for rule in rules:
        type_ids = frozenset(t.pk for t in rule.ci_types.all()) or None
        if type_ids is None:
            all_types = True
        else:
            checked_types |= type_ids
        items = base if type_ids is None else base.filter(ci_type_id__in=type_ids)
        try:
            failures = EVALUATORS[rule.kind](rule, Scope(items, type_ids), ctx)
        except Exception as error:
            raise RuntimeError(f"rule {rule.code}: {error}") from error
        failed_per_group: Counter[Group] = Counter(
            (customer_id, type_id) for customer_id, type_id, _detail in failures.values()
        )
        for (customer_id, type_id), size in sorted(
            group_sizes.items(), key=lambda item: (item[0][0] or 0, item[0][1])
        ):
            if type_ids is not None and type_id not in type_ids:
                continue
            result.scores.append(
                ConfigAuditScore(
                    run=run,
                    rule=rule,
                    customer_id=customer_id,
                    ci_type_id=type_id,
                    checked=size,
                    failed=min(failed_per_group[(customer_id, type_id)], size),
                )
            )
        result.findings.extend(
            (rule.pk, ci_id, detail) for ci_id, (_c, _t, detail) in sorted(failures.items())
        )
        failing_cis.update(failures)
    result.checked = sum(
        size
        for (_customer, type_id), size in group_sizes.items()
        if all_types or type_id in checked_types
    )
    result.failed = len(failing_cis)
    return result


def _insert_findings(run: ConfigAuditRun, findings: list[tuple[int, int, str]]) -> None:
    """Write the findings fast: COPY on PostgreSQL, one prepared INSERT per batch on SQLite.

    A run can have hundreds of thousands of findings. Measured with bench/cmdb_audit.py for
    124,000 findings: on SQLite ``bulk_create`` (which compiles a new INSERT every 249 rows
    and builds a model instance per row) took ~3× as long as ``executemany``; on PostgreSQL
    COPY took a third of ``bulk_create``'s time and a fifth of ``executemany``'s. Nothing here
    needs the model layer: no signals, no defaults, no returned ids.
    """
    meta = ConfigAuditFinding._meta
    quote = connection.ops.quote_name
    column_of = {field.name: field.column for field in meta.concrete_fields}
    columns = ", ".join(quote(column_of[name]) for name in ("run", "rule", "ci", "detail"))
    table = quote(meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Identifiers come from the model's metadata, quoted; rows travel as data.
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for rule_id, ci_id, detail in findings:
                    copy.write_row((run.pk, rule_id, ci_id, detail))
            return
        sql = f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s)"  # noqa: S608 - as above
        for start in range(0, len(findings), FINDINGS_BATCH):
            cursor.executemany(
                sql,
                [
                    (run.pk, rule_id, ci_id, detail)
                    for rule_id, ci_id, detail in findings[start : start + FINDINGS_BATCH]
                ],
            )


def run_audit(
    *,
    actor: User | None = None,
    customer_ids: Iterable[int] | None = None,
    run: ConfigAuditRun | None = None,
) -> ConfigAuditRun:
    """Evaluate every enabled rule over every active CI in scope and store the results.

    ``customer_ids`` limits the run to those customers' CIs (shared provider CIs are then left
    out); None audits everything. ``run`` is a row made by ``start_run`` (the worker path);
    without it a new row is created. Computation reads only; the results are written in one
    transaction at the end, claimed with a conditional UPDATE so a run is stored once even if
    its task is delivered twice. On error the run is marked failed with the error text and
    nothing else is stored.
    """
    if run is None:
        run = ConfigAuditRun.objects.create(
            started_at=timezone.now(), status=ConfigAuditRun.Status.RUNNING, triggered_by=actor
        )
    try:
        # Details are stored text: write them in the installation's language.
        with translation.override(settings.LANGUAGE_CODE):
            result = _evaluate(run, customer_ids)
        with transaction.atomic():
            claimed = ConfigAuditRun.objects.filter(
                pk=run.pk, status=ConfigAuditRun.Status.RUNNING
            ).update(
                status=ConfigAuditRun.Status.DONE,
                finished_at=timezone.now(),
                checked=result.checked,
                failed=result.failed,
                error="",
            )
            if claimed:
                ConfigAuditScore.objects.bulk_create(result.scores, batch_size=1000)
                _insert_findings(run, result.findings)
    except Exception as error:
        logger.exception("configuration audit run %s failed", run.pk)
        ConfigAuditRun.objects.filter(pk=run.pk, status=ConfigAuditRun.Status.RUNNING).update(
            status=ConfigAuditRun.Status.FAILED,
            finished_at=timezone.now(),
            error=f"{type(error).__name__}: {error}"[:2000],
        )
    run.refresh_from_db()
    return run


def ensure_audit_schedule(**_: Any) -> None:
    """Seed the daily audit (02:00 China time) in the database scheduler (idempotent).

    Users may change the schedule later; only what is missing is created.
    """
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="2",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.get_or_create(
        name="cmdb: configuration audit",
        defaults={
            "task": "opsassure.cmdb.tasks.run_config_audit",
            "crontab": crontab,
            "queue": "default",
            "description": "Daily configuration audit (GB/T 28827.1 §9.6).",
        },
    )


# --- read side ----------------------------------------------------------------------------------


def _percent(checked: int | None, failed: int | None) -> float | None:
    if not checked:
        return None
    return round(100.0 * (checked - (failed or 0)) / checked, 2)


def _recent_run_ids(limit: int) -> list[int]:
    # Only ids and dates of runs leave this function; every figure comes from scoped scores.
    return list(
        ConfigAuditRun.objects.filter(status=ConfigAuditRun.Status.DONE)
        .order_by("-started_at", "-id")
        .values_list("id", flat=True)[:limit]
    )


def latest_run_id(user: User | AnonymousUser, *, within: int = TREND_RUNS) -> int | None:
    """The most recent done run that holds results ``user`` may see (None: none yet)."""
    recent = _recent_run_ids(within)
    if not recent:
        return None
    found = (
        scoped(ConfigAuditScore, user)
        .filter(run_id__in=recent)
        .order_by("-run__started_at", "-run_id")
        .values_list("run_id", flat=True)
        .first()
    )
    return found


def visible_rules(user: User | AnonymousUser) -> QuerySet[ConfigAuditRule]:
    """Rules a user may pick in filters: all for staff, those scored for their customer else."""
    rules = scoped(ConfigAuditRule, user)
    if rules.exists():
        return rules.order_by("code")
    return ConfigAuditRule.objects.filter(
        Exists(scoped(ConfigAuditScore, user).filter(rule_id=OuterRef("pk")))
    ).order_by("code")


def compliance_summary(
    user: User | AnonymousUser, run: ConfigAuditRun | None = None, *, trend_runs: int = TREND_RUNS
) -> dict[str, Any]:
    """Compliance per rule, customer and CI type for one run, and the trend over recent runs.

    ``run`` defaults to the latest done run with results the user may see. Every figure is
    a SQL aggregate over the user's visible ``ConfigAuditScore`` rows; compliance is
    ``(checked - failed) / checked`` in percent (None when nothing was checked).
    """
    scores = scoped(ConfigAuditScore, user)
    recent = _recent_run_ids(trend_runs)
    trend_rows = list(
        scores.filter(run_id__in=recent)
        .order_by()
        .values("run_id", "run__started_at")
        .annotate(checked=Sum("checked"), failed=Sum("failed"))
        .order_by("run__started_at", "run_id")
    )
    trend = [
        {
            "run": row["run_id"],
            "started_at": row["run__started_at"],
            "compliance": _percent(row["checked"], row["failed"]),
        }
        for row in trend_rows
    ]
    if run is None and trend_rows:
        run = ConfigAuditRun.objects.get(pk=trend_rows[-1]["run_id"])
    summary: dict[str, Any] = {
        "run": None,
        "overall": {"checked": 0, "failed": 0, "compliance": None},
        "rules": [],
        "customers": [],
        "ci_types": [],
        "trend": trend,
    }
    if run is None:
        return summary
    summary["run"] = {"id": run.pk, "started_at": run.started_at, "finished_at": run.finished_at}
    of_run = scores.filter(run=run).order_by()
    totals = of_run.aggregate(checked=Sum("checked"), failed=Sum("failed"))
    summary["overall"] = {
        "checked": totals["checked"] or 0,
        "failed": totals["failed"] or 0,
        "compliance": _percent(totals["checked"], totals["failed"]),
    }
    for row in (
        of_run.values("rule_id", "rule__code", "rule__name", "rule__kind")
        .annotate(checked=Sum("checked"), failed=Sum("failed"))
        .order_by("rule__code")
    ):
        summary["rules"].append(
            {
                "rule": row["rule_id"],
                "code": row["rule__code"],
                "name": rule_display_name(row["rule__code"], row["rule__name"]),
                "kind": row["rule__kind"],
                "checked": row["checked"],
                "failed": row["failed"],
                "compliance": _percent(row["checked"], row["failed"]),
            }
        )
    for row in (
        of_run.values("customer_id", "customer__code", "customer__name")
        .annotate(checked=Sum("checked"), failed=Sum("failed"))
        .order_by(F("customer__code").asc(nulls_last=True))
    ):
        summary["customers"].append(
            {
                "customer": row["customer_id"],
                "code": row["customer__code"] or "",
                "name": row["customer__name"] or _("Provider (shared CIs)"),
                "checked": row["checked"],
                "failed": row["failed"],
                "compliance": _percent(row["checked"], row["failed"]),
            }
        )
    for row in (
        of_run.values("ci_type_id", "ci_type__code", "ci_type__name", "ci_type__is_builtin")
        .annotate(checked=Sum("checked"), failed=Sum("failed"))
        .order_by("ci_type__sort_order", "ci_type__code")
    ):
        code, name = row["ci_type__code"], row["ci_type__name"]
        summary["ci_types"].append(
            {
                "ci_type": row["ci_type_id"],
                "code": code,
                "name": type_display_name(code, name) if row["ci_type__is_builtin"] else name,
                "checked": row["checked"],
                "failed": row["failed"],
                "compliance": _percent(row["checked"], row["failed"]),
            }
        )
    return summary
