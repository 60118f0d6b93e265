"""Kill -9 the web process and the worker while alerts are being posted.

The real ``opsassure run`` (gunicorn web, Celery worker, beat, under our supervisor, which
restarts killed children) on SQLite — or PostgreSQL + Redis when the test URLs are set. Four
senders post Alertmanager batches; meanwhile every gunicorn and Celery worker process is
SIGKILLed twice. Every alert that got a 2xx must be in the database afterwards, and processed
(grouped, not pending): the sweep re-drives batches whose message or worker was lost.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.e2e import server as srv

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e"), pytest.mark.timeout(900)]

SENDERS = 4
BATCH = 20
POST_SECONDS = 14.0


def _env(data_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in srv._SCRUB}
    env.update(
        OPSASSURE_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="opsassure.settings",
        PYTHONUNBUFFERED="1",
        OPSASSURE_ALERT_BATCH_LEASE_SECONDS="5",
    )
    env.update(extra)
    return env


def _shell(env: dict[str, str], code: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "opsassure", "manage", "shell", "-c", code],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def _kill_web_and_worker(server: srv.Server) -> list[str]:
    killed = []
    for proc in server.descendants():
        try:
            line = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        # Celery renames its processes ("[celeryd: celery@host:MainProcess] …"); beat is left
        # alone (it only schedules the sweep).
        # Before its execv a child is still "python -m opsassure web|worker".
        is_worker = (
            "celeryd" in line
            or ("celery" in line and " worker" in line)
            or "opsassure worker" in line
        )
        if "gunicorn" in line or "opsassure web" in line or is_worker:
            try:
                proc.send_signal(signal.SIGKILL)
                killed.append(line[:80])
            except psutil.Error:
                pass
    return killed


def test_kill_9_web_and_worker_loses_no_accepted_alert(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    log_path = tmp_path / "run.log"
    with srv.scale_out_env() as extra:
        env = _env(data_dir, extra)
        port = srv.free_port()
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "opsassure",
                    "run",
                    "--no-demo",
                    "--host",
                    srv.HOST,
                    "--port",
                    str(port),
                ],
                env=env,
                cwd=data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = srv.Server(
            process=process,
            port=port,
            data_dir=data_dir,
            log_path=log_path,
            started_at=time.monotonic(),
        )
        try:
            server.wait_for("/healthz")
            token = _shell(
                env,
                (
                    "from opsassure.alerting.models import Integration; "
                    "from opsassure.core.models import Customer; "
                    "c = Customer.objects.create(code='DUR', name='Durability'); "
                    "print(Integration.objects.create(name='dur', kind='alertmanager', customer=c, "
                    "rate_limit_per_minute=0, default_action='record').token)"
                ),
                data_dir,
            )
            url = f"{server.url}/api/v1/alerting/ingest/{token}/"
            accepted: set[str] = set()
            refused = [0]
            lock = threading.Lock()
            stop = threading.Event()

            def sender(number: int) -> None:
                batch_no = 0
                with httpx.Client(timeout=10, trust_env=False) as client:
                    while not stop.is_set():
                        batch_no += 1
                        fps = [f"s{number}-b{batch_no}-a{i}" for i in range(BATCH)]
                        payload = {
                            "version": "4",
                            "groupKey": f"dur-{number}",
                            "status": "firing",
                            "alerts": [
                                {
                                    "status": "firing",
                                    "fingerprint": fp,
                                    "labels": {"alertname": "Durability", "instance": fp},
                                    "startsAt": "2026-11-27T08:00:00Z",
                                }
                                for fp in fps
                            ],
                        }
                        try:
                            response = client.post(url, json=payload)
                        except httpx.HTTPError:
                            with lock:
                                refused[0] += 1
                            time.sleep(0.1)
                            continue
                        if 200 <= response.status_code < 300:
                            with lock:
                                accepted.update(fps)
                        else:
                            with lock:
                                refused[0] += 1

            threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
            for thread in threads:
                thread.start()
            begin = time.monotonic()
            kills: list[list[str]] = []
            time.sleep(3)
            kills.append(_kill_web_and_worker(server))
            time.sleep(5)
            kills.append(_kill_web_and_worker(server))
            while time.monotonic() - begin < POST_SECONDS:
                time.sleep(0.2)
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            seen = [" ".join(p.cmdline())[:100] for p in server.descendants()]
            assert all(any("gunicorn" in k or " web" in k for k in r) for r in kills), (kills, seen)
            assert all(any("celery" in k or " worker" in k for k in r) for r in kills), (
                kills,
                seen,
            )
            assert len(accepted) >= BATCH * 10, f"too few accepted batches: {len(accepted)}"
            assert refused[0] >= 1, "the kills should have refused at least one request"
            server.wait_for("/healthz", timeout=120)

            fp_file = tmp_path / "accepted.json"
            fp_file.write_text(json.dumps(sorted(accepted)))
            # An accepted alert is in the database as an alert row, or still staged in its
            # committed batch row until a worker writes the alert row (alerting/ingest.py).
            count_code = (
                "import json; from opsassure.alerting.models import Alert, IngestBatch; "
                f"fps = set(json.load(open({str(fp_file)!r}))); "
                "rows = Alert.objects.filter(integration__name='dur'); "
                "stored = set(rows.values_list('fingerprint', flat=True)); "
                "staged = IngestBatch.objects.filter(integration__name='dur', "
                "expanded_at__isnull=True).values_list('staged', flat=True); "
                "stored |= {r['f'] for s in staged for k in ('firing', 'resolved') "
                "for r in json.loads(s)[k]}; "
                "done = set(rows.filter(pending=False, group__isnull=False)"
                ".values_list('fingerprint', flat=True)); "
                "print(json.dumps([len(fps - stored), len(fps - done)]))"
            )
            missing, unprocessed = json.loads(_shell(env, count_code, data_dir))
            assert missing == 0, (
                f"{missing} of {len(accepted)} acknowledged alerts are not in the database"
            )
            deadline = time.monotonic() + 240
            while unprocessed and time.monotonic() < deadline:
                time.sleep(5)
                missing, unprocessed = json.loads(_shell(env, count_code, data_dir))
            assert (missing, unprocessed) == (0, 0), (
                f"still unprocessed: {unprocessed}\n{server.log()}"
            )
        finally:
            _, leftovers = server.stop()
            if leftovers:
                server.kill()
