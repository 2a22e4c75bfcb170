"""Recount the daily rollups further back than the periodic job does (after an import, an upgrade...)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tertulia.analytics.rollup import local_day, roll_up
from tertulia.core.models import Brand


class Command(BaseCommand):
    help = "Recount each brand's daily analytics rollups for the last N days (docs/analytics.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=30, help="How many days back (1 to 1,000).")
        parser.add_argument("--brand", type=int, action="append", help="Only this brand id (repeatable).")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if not 1 <= days <= 1000:
            raise CommandError("--days must be between 1 and 1,000.")
        brands = Brand.objects.all()
        if options["brand"]:
            brands = brands.filter(pk__in=options["brand"])
        for brand in brands.order_by("pk"):
            today = local_day(brand, timezone.now())
            roll_up(brand, today - timedelta(days=days - 1), today)
            self.stdout.write(f"brand {brand.pk}: {days} days rolled up")
