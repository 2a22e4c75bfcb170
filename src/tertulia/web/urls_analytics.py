"""Routes of the web app for analytics (docs/analytics.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from tertulia.web.views import analytics

urlpatterns: list[URLPattern] = [
    path("analytics/", analytics.overview, name="analytics"),
    path("analytics/publishing/", analytics.publishing, name="analytics-publishing"),
    path("analytics/inbox/", analytics.inbox, name="analytics-inbox"),
    path("analytics/listening/", analytics.listening, name="analytics-listening"),
    path("analytics/audience/", analytics.audience, name="analytics-audience"),
    path("analytics/export/<slug:table>.csv", analytics.export_csv, name="analytics-csv"),
]
