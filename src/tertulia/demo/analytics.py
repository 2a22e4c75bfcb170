"""Demo analytics: the daily rollups of what the demo loaded, so the dashboards open with figures.

The periodic job recounts only the last three days; the demo's month of listening history and its
published posts are older, so they are rolled up once here (docs/analytics.md, "Backfill").
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tertulia.analytics.rollup import local_day, roll_up
from tertulia.core.models import Brand

HISTORY_DAYS = 90


def roll_up_history(brand: Brand) -> str:
    today = local_day(brand, timezone.now())
    roll_up(brand, today - timedelta(days=HISTORY_DAYS), today)
    return f"analytics: {HISTORY_DAYS} days rolled up for {brand.name}"
