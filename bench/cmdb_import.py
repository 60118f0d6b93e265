"""CMDB import/export throughput: N-row XLSX (default 10,000) on a fresh embedded database.

    .venv/bin/python bench/cmdb_import.py [rows]

Prints wall-clock and CPU seconds (this process) for a dry run, the import, a re-import of the
same file (all unchanged) and an XLSX export of the result, and the load average: on a busy
machine the wall-clock figure grows with the load, the CPU figure does not. Uses SQLite unless
OPSASSURE_DATABASE_URL is set.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPSASSURE_DATA_DIR", tempfile.mkdtemp(prefix="opsassure-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsassure.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from opsassure.cmdb.builtin import seed_builtins  # noqa: E402
from opsassure.cmdb.exporting import export_cis  # noqa: E402
from opsassure.cmdb.importing import import_file  # noqa: E402
from opsassure.cmdb.models import ConfigurationItem  # noqa: E402
from opsassure.core.models import Customer, Team, User  # noqa: E402
from opsassure.core.roles import sync_roles  # noqa: E402


def write_workbook(path: Path, rows: int) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("CIs")
    sheet.append(
        ["名称", "客户", "类型", "状态", "环境", "重要性", "主机名", "IP地址", "序列号", "厂商",
         "型号", "负责团队", "保修到期", "成本", "标签", "attr:cpu_count", "attr:memory_gb",
         "attr:os"]
    )  # fmt: skip
    for i in range(rows):
        sheet.append(
            [f"srv-{i:05d}", "BENCH", "server", "在用", "生产", "2", f"host-{i:05d}",
             f"10.{i // 65536}.{i // 256 % 256}.{i % 256}, 172.16.{i // 256 % 256}.{i % 256}",
             f"SN{i:08d}", "华为", "RH2288", "OPS", "2027-06-30", 45000.5,
             f"核心; rack-{i % 20}", 32, 256, "麒麟 V10"]
        )  # fmt: skip
    workbook.save(path)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    call_command("migrate", verbosity=0)
    sync_roles()
    seed_builtins()
    customer = Customer.objects.create(code="BENCH", name="Bench customer")
    team = Team.objects.create(code="OPS", name="Ops")
    team.customers.add(customer)
    actor = User.objects.create_superuser("bench", password="bench-password-1")
    path = Path(tempfile.mkdtemp()) / "cis.xlsx"
    write_workbook(path, rows)
    data = path.read_bytes()
    print(f"{rows} rows, {len(data) / 1e6:.1f} MB XLSX, database {django.db.connection.vendor}")
    print(f"load average before: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    for label, dry_run in (("dry run", True), ("import", False), ("re-import", False)):
        start, cpu = time.perf_counter(), time.process_time()
        report = import_file(actor=actor, data=data, filename=path.name, dry_run=dry_run)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        assert not report.errors, report.errors[:5]
        print(
            f"{label:10} {seconds:6.1f} s (cpu {cpu:5.1f} s)  created={report.created} "
            f"updated={report.updated} unchanged={report.unchanged}"
        )
    start, cpu = time.perf_counter(), time.process_time()
    export = export_cis(
        ConfigurationItem.objects.order_by("name", "id"),
        actor=actor,
        file_format="xlsx",
        filters={},
    )
    size = sum(len(chunk) for chunk in export.chunks)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"{'export':10} {seconds:6.1f} s (cpu {cpu:5.1f} s)  {size / 1e6:.1f} MB")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
