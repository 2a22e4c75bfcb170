"""Person days per channel (2 of 2): the column, and the unique key with it (see 0002)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


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
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="core.channel", default=0
            ),
            preserve_default=False,
        ),
        migrations.AddConstraint(
            model_name="personday",
            constraint=models.UniqueConstraint(
                fields=("brand", "user", "channel", "day"), name="person_day_unique"
            ),
        ),
    ]
