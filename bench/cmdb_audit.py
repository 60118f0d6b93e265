"""Configuration audit benchmark: one full audit run over a large CMDB.

    .venv/bin/python bench/cmdb_audit.py [--cis 100000] [--customers 50]

Builds a fresh database in a temporary data directory (SQLite, or PostgreSQL when
OPSASSURE_DATABASE_URL is set — that database is then filled, so point it at a scratch one),
loads N CIs spread over customers and the built-in types with realistic defects (about 5 %
missing fields, 3 % duplicate serials, 2 % duplicate IPs, 30 % never verified, 40 % without
relations, 4 % expired warranties in use, 5 % retired), then times ``run_audit()`` with every
built-in rule enabled and prints the figures. Goal: 100,000 CIs in under 30 s on SQLite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cis", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--reuse", help="audit again a data directory kept by --keep (SQLite)")
    args = parser.parse_args()

    data_dir = Path(args.reuse) if args.reuse else Path(tempfile.mkdtemp(prefix="opsassure-bench-"))
    os.environ["OPSASSURE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsassure.settings")
    try:
        run(args.cis, args.customers, load=not args.reuse)
    finally:
        if args.keep or args.reuse:
            print(f"data kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def run(n_cis: int, n_customers: int, *, load: bool) -> None:
    import django

    django.setup()
    from django.db import connection

    from opsassure.cmdb import compliance
    from opsassure.cmdb.models import (
        ConfigAuditFinding,
        ConfigAuditScore,
        ConfigurationItem,
        Relation,
    )
    from opsassure.core.models import Customer

    started = time.perf_counter()
    if load:
        n_relations = fill(n_cis, n_customers)
    else:
        n_cis = ConfigurationItem.objects.count()
        n_customers = Customer.objects.count()
        n_relations = Relation.objects.count()
    load_seconds = time.perf_counter() - started
    vendor = connection.vendor

    started, cpu = time.perf_counter(), time.process_time()
    audit = compliance.run_audit()
    audit_seconds, audit_cpu = time.perf_counter() - started, time.process_time() - cpu

    findings = ConfigAuditFinding.objects.filter(run=audit).count()
    scores = ConfigAuditScore.objects.filter(run=audit).count()
    print(f"database            {vendor}")
    print(f"CIs                 {n_cis:,} ({n_customers} customers), {n_relations:,} relations")
    print(f"load time           {load_seconds:.1f} s")
    print(f"run status          {audit.status} {audit.error}")
    print(f"CIs checked         {audit.checked:,}, failing {audit.failed:,}")
    print(f"scores / findings   {scores:,} / {findings:,}")
    print(
        f"audit time          {audit_seconds:.2f} s wall, {audit_cpu:.2f} s CPU of this process "
        "(goal < 30 s for 100,000 CIs on SQLite)"
    )
    print(f"load average        {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def fill(n_cis: int, n_customers: int) -> int:
    """Migrate a fresh database and load the sample CMDB; returns the number of relations."""
    from django.core.management import call_command
    from django.utils import timezone

    from opsassure.cmdb.models import CIAddress, CIType, ConfigurationItem, Relation
    from opsassure.core.models import Customer

    call_command("migrate", verbosity=0)
    rng = random.Random(20240601)
    customers = Customer.objects.bulk_create(
        [Customer(code=f"C{i:03d}", name=f"Customer {i}") for i in range(n_customers)]
    )
    types = {t.code: t for t in CIType.objects.all()}
    weights = {
        "server": 20,
        "virtual_machine": 35,
        "database": 8,
        "middleware": 7,
        "application": 10,
        "network_device": 10,
        "storage": 3,
        "security_device": 3,
        "business_service": 2,
        "power_cooling": 1,
        "container_platform": 1,
    }
    codes = list(weights)
    now = timezone.now()
    today = now.date()
    required_attribute = {
        "database": ("engine", "MySQL"),
        "middleware": ("product", "Nginx"),
        "business_service": ("service_hours", "7×24"),
        "power_cooling": ("equipment", "UPS"),
    }
    batch: list[ConfigurationItem] = []
    for index in range(n_cis):
        customer = customers[index % n_customers]
        code = rng.choices(codes, weights=[weights[c] for c in codes])[0]
        defect = rng.random()
        serial = f"SN{index:08d}" if rng.random() > 0.03 else f"SN{index // 7:08d}"
        attributes = {}
        if code in required_attribute and defect > 0.05:
            key, value = required_attribute[code]
            attributes[key] = value
        batch.append(
            ConfigurationItem(
                customer=customer,
                ci_type=types[code],
                name=f"{code}-{index:07d}",
                status="retired" if rng.random() < 0.05 else "in_use",
                hostname=f"host-{index:07d}" if defect > 0.05 else "",
                serial_number=serial if defect > 0.02 else "",
                vendor="Huawei" if defect > 0.04 else "",
                model="M1",
                primary_ip=(
                    f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"
                    if rng.random() > 0.02
                    else "10.250.0.1"
                ),
                attributes=attributes,
                verified_at=None
                if rng.random() < 0.3
                else now - dt.timedelta(days=rng.randint(0, 200)),
                warranty_end=today - dt.timedelta(days=30)
                if rng.random() < 0.04
                else today + dt.timedelta(days=365),
            )
        )
        if len(batch) == 5000:
            ConfigurationItem.objects.bulk_create(batch)
            batch = []
    ConfigurationItem.objects.bulk_create(batch)
    rows = list(ConfigurationItem.objects.values_list("id", "primary_ip", "customer_id"))
    CIAddress.objects.bulk_create(
        [CIAddress(ci_id=pk, address=ip) for pk, ip, _c in rows if ip], batch_size=5000
    )
    relations = []
    by_customer: dict[int, list[int]] = {}
    for pk, _ip, owner in rows:
        by_customer.setdefault(owner, []).append(pk)
    for customer_id, ids in by_customer.items():
        for position in range(0, len(ids) - 1, 2):
            if rng.random() < 0.6:
                relations.append(
                    Relation(
                        customer_id=customer_id,
                        source_id=ids[position],
                        target_id=ids[position + 1],
                        relation_type="runs_on",
                    )
                )
    Relation.objects.bulk_create(relations, batch_size=5000)
    return len(relations)


if __name__ == "__main__":
    main()
