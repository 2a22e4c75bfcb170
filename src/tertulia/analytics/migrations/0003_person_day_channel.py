"""Person days per channel (2 of 2): the column, and the unique key with it (see 0002).

The column is added empty first: rows a worker of the previous version wrote between 0002 and this
migration have no channel and go too (they are recounted like the others). Going back, every row goes
before the old key (one row per person and day) returns, for the same reason as in 0002.
"""

import django.db.models.deletion
from django.apps.registry import Apps
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def forget_unfiled(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("analytics", "PersonDay").objects.filter(channel__isnull=True).delete()


def forget_all(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("analytics", "PersonDay").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_person_days_forgotten"),
        ("core", "0006_audit_hash_chain"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="personday", name="person_day_unique"),
        migrations.AddField(
            model_name="personday",
            name="channel",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="core.channel", null=True
            ),
        ),
        migrations.RunPython(forget_unfiled, forget_all, elidable=True),
        migrations.AlterField(
            model_name="personday",
            name="channel",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="core.channel"
            ),
        ),
        migrations.AddConstraint(
            model_name="personday",
            constraint=models.UniqueConstraint(
                fields=("brand", "user", "channel", "day"), name="person_day_unique"
            ),
        ),
    ]
