"""Person days per channel, so the dashboards' channel filter applies to the per-person table (1 of 2:
the old rows go; 0003 adds the column).

The old rows (one per person and day, every channel together) cannot be split after the fact; they
are derived figures, so they are removed here and counted again: the periodic job recounts the last
three days, and `tertulia manage analytics_rollup --days N` the rest (docs/analytics.md).
"""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def forget_person_days(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("analytics", "PersonDay").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_initial"),
    ]

    # Apart from the schema change (0003): PostgreSQL refuses ALTER TABLE with pending trigger events.
    operations = [migrations.RunPython(forget_person_days, migrations.RunPython.noop, elidable=True)]
