"""Person days carry their histogram's total (`first_answers`), so the per-person table reads only the
rows with first answers in them; the rows already counted get theirs here."""

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

BATCH = 2000


def count_first_answers(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    person_day = apps.get_model("analytics", "PersonDay")
    changed = []
    for row in person_day.objects.only("pk", "first_responses").iterator(chunk_size=BATCH):
        histogram = row.first_responses
        total = sum(n for n in histogram if isinstance(n, int)) if isinstance(histogram, list) else 0
        if total:
            row.first_answers = total
            changed.append(row)
        if len(changed) >= BATCH:
            person_day.objects.bulk_update(changed, ["first_answers"])
            changed = []
    person_day.objects.bulk_update(changed, ["first_answers"])


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0003_person_day_channel"),
    ]

    operations = [
        migrations.AddField(
            model_name="personday",
            name="first_answers",
            field=models.PositiveIntegerField(default=0, db_default=0),
        ),
        migrations.RunPython(count_first_answers, migrations.RunPython.noop, elidable=True),
    ]
