"""On-call figures: shift computation and the escalation sweep.

    .venv/bin/python bench/oncall.py [--runs 500] [--threads 2]

1. ``rotation.Rota.segments`` over 91 days for three layers (an hourly one on top, weekly,
   daily) with 100 overrides — the cost of the busiest schedule page / feed (pure Python).
2. ``escalation.sweep``: starts N escalations (one due step each; the on-commit kick is
   disabled so nothing runs early), then times one sweep running them all (each step renders
   and writes one e-mail outbox row and the next step row), and then T sweeps racing over N
   more (each step must run exactly once). SQLite in a temporary OPSASSURE_DATA_DIR; set
   OPSASSURE_BENCH_DATABASE_URL to run on PostgreSQL. Figures are printed.
"""

from __future__ import annotations

# bench/platform.py is named like the standard library's module: take the folder off the path.
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402


def bench_rotation() -> None:
    from opsassure.oncall.rotation import LayerSpec, OverrideSpec, Rota

    holidays = tuple(dt.date(2026, 10, day) for day in range(1, 8))
    start = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)

    def rota() -> Rota:
        layers = [
            LayerSpec(1, 0, "Europe/Berlin", dt.date(2025, 1, 1), dt.time(9), (1, 2, 3, 4),
                      shift_hours=1, holidays=holidays),
            LayerSpec(2, 1, "Europe/Berlin", dt.date(2025, 1, 1), dt.time(9), (5, 6),
                      shift_days=7, holidays=holidays),
            LayerSpec(3, 2, "Europe/Berlin", dt.date(2025, 1, 1), dt.time(0), (7, 8, 9),
                      shift_days=1, holidays=holidays),
        ]  # fmt: skip
        overrides = [
            OverrideSpec(
                i, 99, start + dt.timedelta(hours=5 * i), start + dt.timedelta(hours=5 * i + 2)
            )
            for i in range(100)
        ]  # fmt: skip
        return Rota(layers, overrides)

    began = time.perf_counter()
    segments = list(rota().segments(start, start + dt.timedelta(days=91)))
    elapsed = time.perf_counter() - began
    print(f"rotation: {len(segments)} shifts over 91 days in {elapsed * 1000:.0f} ms")
    week = rota()
    began = time.perf_counter()
    segments = list(week.segments(start, start + dt.timedelta(days=7)))
    elapsed = time.perf_counter() - began
    print(f"rotation: one week ({len(segments)} shifts) in {elapsed * 1000:.1f} ms")


def setup(data_dir: str) -> None:
    os.environ["OPSASSURE_DATA_DIR"] = data_dir
    os.environ["OPSASSURE_DEBUG"] = "0"
    os.environ["OPSASSURE_LOG_LEVEL"] = "WARNING"
    if os.environ.get("OPSASSURE_BENCH_DATABASE_URL"):
        os.environ["OPSASSURE_DATABASE_URL"] = os.environ["OPSASSURE_BENCH_DATABASE_URL"]
    os.environ["DJANGO_SETTINGS_MODULE"] = "opsassure.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def world() -> Any:
    from opsassure.core.models import Team, User
    from opsassure.oncall.models import (
        EscalationPolicy,
        EscalationPolicyStep,
        Layer,
        LayerParticipant,
        Schedule,
    )

    team = Team.objects.create(code="BENCH", name="Bench")
    people = [
        User.objects.create_user(username=f"bench{i}", email=f"bench{i}@example.cn")
        for i in range(3)
    ]
    schedule = Schedule.objects.create(team=team, name="bench")
    layer = Layer.objects.create(
        schedule=schedule, name="24/7", kind="daily", start_date=dt.date(2025, 1, 1),
        handoff_time=dt.time(9),
    )  # fmt: skip
    for position, user in enumerate(people):
        LayerParticipant.objects.create(layer=layer, user=user, position=position)
    policy = EscalationPolicy.objects.create(name="bench")
    EscalationPolicyStep.objects.create(
        policy=policy, position=0, target="schedule", schedule=schedule, wait_minutes=5, repeat=2
    )
    return policy


def start(policy: Any, count: int, prefix: str) -> None:
    from opsassure.oncall import services

    for i in range(count):
        services.start_escalation(
            policy=policy, customer=None, title=f"{prefix} {i}", severity="critical"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    bench_rotation()
    with tempfile.TemporaryDirectory(prefix="opsassure-bench-oncall-") as data_dir:
        setup(data_dir)
        from django.db import connection
        from django.utils import timezone

        from opsassure.notify.models import Notification
        from opsassure.oncall import escalation
        from opsassure.oncall.models import EscalationStep

        escalation._kick = lambda run: None  # only the sweeps run steps
        from django.urls import reverse

        reverse("oncall:run-list")  # import the URL configuration before timing
        policy = world()
        start(policy, args.runs, "single")
        now = timezone.now() + dt.timedelta(seconds=1)
        began = time.perf_counter()
        ran = escalation.sweep(now).ran
        elapsed = time.perf_counter() - began
        print(
            f"sweep ({connection.vendor}): {len(ran)} steps in {elapsed:.2f} s = "
            f"{len(ran) / elapsed:.0f} steps/s (one e-mail row + next step each)"
        )
        start(policy, args.runs, "race")
        now = timezone.now() + dt.timedelta(seconds=1)
        results: list[list[int]] = []

        def work() -> None:
            try:
                results.append(escalation.sweep(now, batch_size=50).ran)
            finally:
                connection.close()

        began = time.perf_counter()
        threads = [threading.Thread(target=work) for _ in range(args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        leftover = escalation.sweep(now).ran
        done = [step for result in results for step in result] + leftover
        assert len(done) == len(set(done)) == args.runs, (len(done), len(set(done)))
        assert Notification.objects.count() == 2 * args.runs
        assert EscalationStep.objects.filter(state="done").count() == 2 * args.runs
        print(
            f"sweep ({connection.vendor}), {args.threads} racing: {args.runs} steps in "
            f"{elapsed:.2f} s = {args.runs / elapsed:.0f} steps/s; per worker "
            f"{[len(r) for r in results]}, left for the next sweep {len(leftover)}; "
            "each step ran exactly once"
        )


if __name__ == "__main__":
    main()
