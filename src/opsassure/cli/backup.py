"""``opsassure backup`` / ``restore``: one archive with the database and the data files.

SQLite is copied with its online backup API (consistent while the system runs); PostgreSQL
with ``pg_dump``/``pg_restore`` (custom format). Uploaded files and the secret key travel with it.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

console = Console()
_FILES_IN_ARCHIVE = ("secret_key", "files", ".demo-loaded")


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsassure.settings")
    import django

    django.setup()


def _pg_env(db: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _pg_args(db: dict[str, str]) -> list[str]:
    args = ["-d", str(db["NAME"])]
    if db.get("HOST"):
        args += ["-h", str(db["HOST"])]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", str(db["USER"])]
    return args


def backup(
    path: Annotated[Path, typer.Argument(help="Archive to write (.tar.gz).")] = Path(
        "opsassure-backup.tar.gz"
    ),
) -> None:
    """Write a consistent backup of the database and the data files."""
    _setup()
    from django.conf import settings

    db = settings.DATABASES["default"]
    data_dir = Path(settings.DATA_DIR)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        if settings.IS_SQLITE:
            source = sqlite3.connect(db["NAME"])
            target = sqlite3.connect(work / "database.sqlite3")
            with Progress(console=console) as progress:
                task = progress.add_task("Copying database", total=None)

                def report(status: int, remaining: int, total: int) -> None:
                    progress.update(task, total=total, completed=total - remaining)

                source.backup(target, pages=256, progress=report)
            target.close()
            source.close()
            engine = "sqlite"
        else:
            with console.status("pg_dump…"):
                subprocess.run(
                    ["pg_dump", "-Fc", "-f", str(work / "database.pgdump"), *_pg_args(db)],
                    check=True,
                    env=_pg_env(db),
                )
            engine = "postgresql"
        (work / "manifest.json").write_text(json.dumps({"engine": engine, "format": 1}))
        with tarfile.open(path, "w:gz") as archive:
            for item in work.iterdir():
                archive.add(item, arcname=item.name)
            for name in _FILES_IN_ARCHIVE:
                if (data_dir / name).exists():
                    archive.add(data_dir / name, arcname=f"data/{name}")
    console.print(f"[green]Backup written to {path}[/]")


def restore(
    path: Annotated[Path, typer.Argument(help="Archive written by `opsassure backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Replace the current data.")] = False,
) -> None:
    """Replace the database and data files with a backup. Stop the system first."""
    if not yes:
        console.print("[red]This replaces all current data. Stop OpsAssure, then add --yes.[/]")
        raise typer.Exit(2)
    _setup()
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    db = settings.DATABASES["default"]
    data_dir = Path(settings.DATA_DIR)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        with tarfile.open(path, "r:gz") as archive:
            archive.extractall(work, filter="data")
        manifest = json.loads((work / "manifest.json").read_text())
        engine = "sqlite" if settings.IS_SQLITE else "postgresql"
        if manifest["engine"] != engine:
            console.print(
                f"[red]The backup is of a {manifest['engine']} database; this system "
                f"uses {engine}.[/]"
            )
            raise typer.Exit(2)
        if engine == "sqlite":
            source = sqlite3.connect(work / "database.sqlite3")
            target = sqlite3.connect(db["NAME"])
            with Progress(console=console) as progress:
                task = progress.add_task("Restoring database", total=None)

                def report(status: int, remaining: int, total: int) -> None:
                    progress.update(task, total=total, completed=total - remaining)

                source.backup(target, pages=256, progress=report)
            target.close()
            source.close()
        else:
            with console.status("pg_restore…"):
                subprocess.run(
                    [
                        "pg_restore",
                        "--clean",
                        "--if-exists",
                        "--no-owner",
                        *_pg_args(db),
                        str(work / "database.pgdump"),
                    ],
                    check=True,
                    env=_pg_env(db),
                )
        for name in _FILES_IN_ARCHIVE:
            source_path = work / "data" / name
            if not source_path.exists():
                continue
            destination = data_dir / name
            if destination.is_dir():
                shutil.rmtree(destination)
            if source_path.is_dir():
                shutil.copytree(source_path, destination)
            else:
                shutil.copy2(source_path, destination)
    console.print("[green]Restore complete.[/]")
