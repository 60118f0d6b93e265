# The CI list filters and sorts by criticality; every list filter and sort has an index.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cmdb", "0003_cmdb_bench_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="configurationitem",
            index=models.Index(fields=["criticality", "name"], name="cmdb_ci_criticality_name_idx"),
        ),
    ]
