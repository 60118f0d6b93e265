"""Liveness, readiness and the checks behind them."""

from __future__ import annotations

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse

from opsassure.core.services import heartbeat_age

_migrations_done = False


def pending_migrations() -> int:
    """Unapplied migrations; once zero in this process it stays zero (migrations only add)."""
    global _migrations_done
    if _migrations_done:
        return 0
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    _migrations_done = not plan
    return len(plan)


def healthz(request: HttpRequest) -> JsonResponse:
    """The process is up. Touches nothing else."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: database reachable, migrations applied, worker heartbeat fresh."""
    checks: dict[str, str] = {}
    ready = True
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:
        return JsonResponse(
            {"status": "unavailable", "checks": {"database": str(error)[:200]}}, status=503
        )
    pending = pending_migrations()
    checks["migrations"] = "ok" if pending == 0 else f"{pending} pending"
    ready &= pending == 0
    age = heartbeat_age("worker") if pending == 0 else None
    if age is None:
        checks["worker"] = "no heartbeat yet"
        ready = False
    elif age > settings.HEARTBEAT_MAX_AGE_SECONDS:
        checks["worker"] = f"stale ({int(age)} s)"
        ready = False
    else:
        checks["worker"] = f"ok ({int(age)} s)"
    response = JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
    # "Not ready yet" is an expected answer while starting; keep it out of the error log.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response
