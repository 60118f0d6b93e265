"""Give every existing customer a default SLA policy (new customers get one on creation).

Historical models only, so this migration keeps working whatever the models become; the
values are copied here for the same reason. A database without the built-in 5×8 calendar
(seeded after migrate) has no customers yet: nothing to do. The hook in ``catalog.hooks``
covers every customer created afterwards.
"""

from typing import Any

from django.db import migrations

MATRIX = {
    (1, 1): 1,
    (1, 2): 2,
    (1, 3): 3,
    (2, 1): 2,
    (2, 2): 3,
    (2, 3): 4,
    (3, 1): 3,
    (3, 2): 4,
    (3, 3): 4,
}
TARGETS = {1: (15, 120, 240), 2: (30, 240, 480), 3: (120, 480, 1440), 4: (480, None, 2400)}


def forwards(apps: Any, schema_editor: Any) -> None:
    customer_model = apps.get_model("core", "Customer")
    calendar_model = apps.get_model("catalog", "ServiceCalendar")
    policy_model = apps.get_model("catalog", "SlaPolicy")
    cell_model = apps.get_model("catalog", "PriorityMatrixCell")
    target_model = apps.get_model("catalog", "SlaTarget")
    calendar = calendar_model.objects.filter(customer__isnull=True, code="5x8").first()
    if calendar is None:
        return
    with_default = policy_model.objects.filter(is_default=True).values("customer_id")
    for customer in customer_model.objects.exclude(pk__in=with_default).order_by("pk"):
        taken = set(policy_model.objects.filter(customer=customer).values_list("code", flat=True))
        code, suffix = "default", 2
        while code in taken:
            code, suffix = f"default-{suffix}", suffix + 1
        policy = policy_model.objects.create(
            customer=customer,
            code=code,
            name="Standard SLA",
            calendar=calendar,
            is_default=True,
        )
        cell_model.objects.bulk_create(
            cell_model(policy=policy, impact=i, urgency=u, priority=p)
            for (i, u), p in MATRIX.items()
        )
        target_model.objects.bulk_create(
            target_model(
                policy=policy,
                priority=p,
                response_minutes=r,
                arrival_minutes=a,
                resolution_minutes=s,
            )
            for p, (r, a, s) in TARGETS.items()
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_slapolicy_service_prioritymatrixcell_olatarget_and_more")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
