"""The audit trail becomes a hash chain per organization, and append-only in the database.

Existing entries are sealed into their chains in the order they were written (by id), then the
triggers that refuse UPDATE and DELETE are installed (docs/audit.md).
"""

import django.db.models.deletion
from django.db import migrations, models

from tertulia.core import audit_chain

BATCH = 2_000


def seal_existing(apps, schema_editor):  # type: ignore[no-untyped-def]  # migration functions get historical models
    AuditEntry = apps.get_model("core", "AuditEntry")
    AuditChain = apps.get_model("core", "AuditChain")
    db = schema_editor.connection.alias
    organizations = (
        AuditEntry.objects.using(db).order_by().values_list("organization_id", flat=True).distinct()
    )
    for organization_id in sorted(set(organizations), key=lambda o: (o is not None, o or 0)):
        entries = AuditEntry.objects.using(db).filter(organization_id=organization_id)
        if organization_id is None:
            entries = AuditEntry.objects.using(db).filter(organization__isnull=True)
        sequence, previous = 0, audit_chain.GENESIS
        pending = []
        for entry in entries.order_by("id").iterator(chunk_size=BATCH):
            sequence += 1
            entry.sequence = sequence
            entry.previous_hash = previous
            entry.hash = audit_chain.entry_hash(
                {
                    "organization": organization_id,
                    "sequence": sequence,
                    "previous_hash": previous,
                    "created_at": entry.created_at,
                    "actor": entry.actor_label,
                    "action": entry.action,
                    "object_type": entry.object_type,
                    "object_id": entry.object_id,
                    "object_repr": entry.object_repr,
                    "changes": entry.changes,
                    "via": entry.via,
                    "ip_address": entry.ip_address,
                    "user_agent": entry.user_agent,
                }
            )
            previous = entry.hash
            pending.append(entry)
            if len(pending) >= BATCH:
                AuditEntry.objects.using(db).bulk_update(pending, ["sequence", "previous_hash", "hash"])
                pending = []
        if pending:
            AuditEntry.objects.using(db).bulk_update(pending, ["sequence", "previous_hash", "hash"])
        AuditChain.objects.using(db).create(
            key="installation" if organization_id is None else str(organization_id),
            organization_id=organization_id,
            length=sequence,
            head_hash=previous,
        )


def install_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]  # migration functions get historical models
    from tertulia.core.audit_db import install_triggers

    install_triggers(schema_editor.connection)


def drop_triggers(apps, schema_editor):  # type: ignore[no-untyped-def]  # migration functions get historical models
    from tertulia.core.audit_db import drop_triggers

    drop_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_governance_grants"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="created_at",
            field=models.DateTimeField(db_index=True),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="sequence",
            field=models.PositiveBigIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="previous_hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditentry",
            name="hash",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="AuditChain",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=32, unique=True)),
                ("length", models.PositiveBigIntegerField(default=0)),
                ("head_hash", models.CharField(default="0" * 64, max_length=64)),
                (
                    "organization",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="audit_chain",
                        to="core.organization",
                    ),
                ),
            ],
            options={
                "verbose_name": "audit chain",
                "verbose_name_plural": "audit chains",
            },
        ),
        migrations.RunPython(seal_existing, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="auditentry",
            name="sequence",
            field=models.PositiveBigIntegerField(),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(
                fields=("organization", "sequence"), name="audit_chain_position"
            ),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.UniqueConstraint(
                condition=models.Q(("organization__isnull", True)),
                fields=("sequence",),
                name="audit_installation_chain_position",
            ),
        ),
        migrations.AddConstraint(
            model_name="auditentry",
            constraint=models.CheckConstraint(
                condition=models.Q(("sequence__gte", 1)), name="audit_sequence_from_one"
            ),
        ),
        migrations.RunPython(install_triggers, drop_triggers, elidable=False),
    ]
