"""The ``opsassure`` command line."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from opsassure.cli import agent as agent_cli
from opsassure.cli import backup as backup_cli
from opsassure.cli import probe as probe_cli
from opsassure.cli.supervisor import Supervisor

console = Console()
app = typer.Typer(
    help="OpsAssure: IT operations service assurance.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")

DEMO_MARKER = ".demo-loaded"


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsassure.settings")
    import django

    django.setup()


def _exec(argv: list[str]) -> None:
    """Replace this process (keeps the PID, so a supervisor's signals reach the real server)."""
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, *argv])  # noqa: S606


@app.command()
def run(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[bool, typer.Option(help="Load demo data on first start.")] = True,
) -> None:
    """All in one: web + worker + scheduler, supervised; Ctrl-C stops everything."""
    me = [sys.executable, "-m", "opsassure"]
    setup = Supervisor.run_once([*me, "setup", *(["--demo"] if demo else [])])
    if setup != 0:
        raise typer.Exit(setup)
    supervisor = Supervisor(console)
    supervisor.add(
        "web",
        [*me, "web", "--host", host, "--port", str(port), "--workers", "1", "--no-collect-static"],
    )
    supervisor.add("worker", [*me, "worker", "--embedded"])
    supervisor.add("scheduler", [*me, "scheduler"])
    supervisor.add("probe", [*me, "probe"])
    url = f"http://{'127.0.0.1' if host in {'0.0.0.0', '::'} else host}:{port}"  # noqa: S104
    raise typer.Exit(supervisor.serve(ready_url=f"{url}/healthz", banner=_banner(url)))


def _banner(url: str) -> str:
    from opsassure.core.demo import DEMO_PASSWORD, DEMO_USERS

    lines = [
        f"[bold green]OpsAssure is running at {url}[/]",
        "",
        f"Demo logins (password [bold]{DEMO_PASSWORD}[/]):",
    ]
    lines += [f"  {username:<16} {label}" for username, label in DEMO_USERS]
    lines += ["", "Press Ctrl-C to stop."]
    return "\n".join(lines)


@app.command(hidden=True)
def setup(demo: Annotated[bool, typer.Option()] = False) -> None:
    """Migrate, collect static files and (first start only) load the demo data."""
    _django()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    collect_static_if_changed()
    marker = Path(settings.DATA_DIR) / DEMO_MARKER
    if demo and not marker.exists():
        from opsassure.core.demo import load_demo

        console.print("Loading demo data (first start)…")
        load_demo(console=console)
        marker.write_text("1\n", encoding="utf-8")


def collect_static_if_changed() -> bool:
    """Run collectstatic only when the shipped static files changed (a restart stays fast)."""
    import hashlib

    from django.conf import settings
    from django.contrib.staticfiles.finders import get_finders
    from django.core.management import call_command

    digest = hashlib.sha256()
    for finder in get_finders():
        for path, storage in sorted(finder.list([]), key=lambda item: item[0]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    fingerprint = digest.hexdigest()
    stamp = Path(settings.STATIC_ROOT) / ".fingerprint"
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return False
    call_command("collectstatic", interactive=False, verbosity=0)
    stamp.write_text(fingerprint)
    return True


@app.command()
def web(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(help="Processes.")] = 2,
    threads: Annotated[int, typer.Option(help="Threads per process.")] = 8,
    collect_static: Annotated[
        bool, typer.Option(help="Collect static files first if changed.")
    ] = True,
) -> None:
    """The web server (gunicorn): UI, API, webhooks."""
    if collect_static:
        _django()
        collect_static_if_changed()
    _exec(
        [
            "-m",
            "gunicorn",
            "opsassure.wsgi:application",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread",
            "--timeout",
            "60",
            "--graceful-timeout",
            "10",
            "--access-logfile",
            "-",
            "--access-logformat",
            '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
            "--forwarded-allow-ips",
            os.environ.get("OPSASSURE_FORWARDED_ALLOW_IPS", "127.0.0.1"),
        ]
    )


@app.command()
def worker(
    queues: Annotated[
        str, typer.Option(help="Comma-separated queues.")
    ] = "alerts,notify,automation,reports,default",
    concurrency: Annotated[int, typer.Option()] = 4,
    embedded: Annotated[
        bool, typer.Option(help="One process with threads (small memory).")
    ] = False,
    hostname: Annotated[str, typer.Option(help="Worker node name.")] = "",
) -> None:
    """A Celery worker. Start as many as you like, on as many machines."""
    argv = [
        "-m",
        "celery",
        "-A",
        "opsassure",
        "worker",
        "--loglevel",
        "INFO",
        "-Q",
        queues,
        "--concurrency",
        str(concurrency),
        "--without-gossip",
        "--without-mingle",
    ]
    if embedded:
        argv += ["--pool", "threads"]
    if hostname:
        argv += ["--hostname", hostname]
    _exec(argv)


@app.command()
def scheduler() -> None:
    """Celery beat, schedules from the database; extra schedulers wait as hot standbys."""
    _exec(
        [
            "-m",
            "celery",
            "-A",
            "opsassure",
            "beat",
            "--loglevel",
            "INFO",
            "--scheduler",
            "opsassure.core.scheduler:LeaderDatabaseScheduler",
        ]
    )


@app.command()
def migrate() -> None:
    """Apply database migrations and collect static files."""
    _django()
    from django.core.management import call_command

    call_command("migrate", interactive=False)
    collect_static_if_changed()


@app.command("demo")
def demo_command() -> None:
    """Load (or refresh) the bilingual demo data set. Idempotent."""
    _django()
    from opsassure.core.demo import load_demo

    load_demo(console=console)
    console.print("[green]Demo data loaded.[/]")


@app.command()
def createsuperuser() -> None:
    """Create an administrator interactively."""
    _django()
    from django.core.management import call_command

    call_command("createsuperuser")


@app.command()
def check(deploy: Annotated[bool, typer.Option(help="Production checks too.")] = False) -> None:
    """Django's system checks (and deployment checks with --deploy)."""
    _django()
    from django.core.management import call_command

    call_command("check", deploy=deploy, fail_level="WARNING" if deploy else "ERROR")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def manage(ctx: typer.Context) -> None:
    """Run a Django management command (for developers)."""
    _django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["opsassure manage", *ctx.args])


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option("--user", help="Username the token acts as.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
    expires_days: Annotated[int | None, typer.Option(help="Days until expiry.")] = None,
) -> None:
    """Create an API token and print it once."""
    _django()
    import datetime as dt

    from django.utils import timezone

    from opsassure.core import services
    from opsassure.core.models import User

    account = User.objects.filter(username=user).first()
    if account is None:
        console.print(f"[red]No user named {user!r}.[/]")
        raise typer.Exit(2)
    expires = timezone.now() + dt.timedelta(days=expires_days) if expires_days else None
    issued = services.create_token(account, name, expires)
    console.print("Token (shown once, store it now):")
    typer.echo(issued.key)


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk the hash chain; report the first broken link (exit 1) or confirm it is intact."""
    _django()
    from rich.progress import Progress

    from opsassure.core.audit import verify_chain
    from opsassure.core.models import AuditEvent

    total = AuditEvent.objects.count()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Verifying audit trail", total=total)
        result = verify_chain(progress=lambda n: progress.advance(task, n))
    if result.ok:
        console.print(f"[green]Audit trail intact: {result.checked} events verified.[/]")
        return
    console.print(
        f"[red]Audit trail broken at event #{result.broken_seq}: {result.reason}.[/]"
        f" {result.checked} events before it are intact."
    )
    raise typer.Exit(1)


app.command("backup")(backup_cli.backup)
app.command("restore")(backup_cli.restore)
app.command("agent")(agent_cli.agent)
app.command("probe")(probe_cli.probe)


def main() -> None:
    app()
