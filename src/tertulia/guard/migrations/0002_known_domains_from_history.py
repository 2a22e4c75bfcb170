"""The domains each brand already linked to, from what it published and answered in the last 180
days: so the first links after installing the guard are not all "new". Pure reading of history;
undone by nothing (the table is simply emptied by going back past 0001)."""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

DAYS = 180
PER_BRAND = 20_000


def learn_from_history(apps, schema_editor):  # type: ignore[no-untyped-def]  # migration functions get historical models
    from tertulia.guard.checks.domains import domains_in

    Brand = apps.get_model("core", "Brand")
    DeliveryTarget = apps.get_model("publishing", "DeliveryTarget")
    Message = apps.get_model("inbox", "Message")
    KnownDomain = apps.get_model("guard", "KnownDomain")
    since = timezone.now() - timedelta(days=DAYS)
    for brand in Brand.objects.all().iterator():
        found: dict[str, None] = {}
        sent = (
            DeliveryTarget.objects.filter(brand_id=brand.pk, state="sent", sent_at__gte=since)
            .order_by("-sent_at")
            .values_list("payload", flat=True)[:PER_BRAND]
        )
        for payload in sent.iterator(chunk_size=1000):
            text = payload.get("text", "") if isinstance(payload, dict) else ""
            for domain in domains_in([str(text)]):
                found.setdefault(domain, None)
        answered = (
            Message.objects.filter(brand_id=brand.pk, direction="out", delivery="sent", sent_at__gte=since)
            .order_by("-sent_at")
            .values_list("text", flat=True)[:PER_BRAND]
        )
        for text in answered.iterator(chunk_size=1000):
            for domain in domains_in([text]):
                found.setdefault(domain, None)
        KnownDomain.objects.bulk_create(
            [
                KnownDomain(organization_id=brand.organization_id, brand_id=brand.pk, domain=d[:255])
                for d in found
            ],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("guard", "0001_initial"),
    ]

    operations = [migrations.RunPython(learn_from_history, migrations.RunPython.noop)]
