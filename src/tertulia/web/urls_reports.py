"""Routes of the web app for scheduled reports (docs/reports.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from tertulia.web.views import reports

urlpatterns: list[URLPattern] = [
    path("analytics/reports/", reports.report_list, name="reports"),
    path("analytics/reports/new/", reports.report_create, name="report-create"),
    path("analytics/reports/preview/", reports.report_preview, name="report-preview"),
    path("analytics/reports/<int:report_schedule_id>/", reports.report_edit, name="report-edit"),
    path("analytics/reports/<int:report_schedule_id>/delete/", reports.report_delete, name="report-delete"),
    path("analytics/reports/<int:report_schedule_id>/send/", reports.report_send, name="report-send"),
    path(
        "analytics/reports/documents/<int:run_document_id>.html",
        reports.report_document,
        {"fmt": "html"},
        name="report-document-html",
    ),
    path(
        "analytics/reports/documents/<int:run_document_id>.pdf",
        reports.report_document,
        {"fmt": "pdf"},
        name="report-document-pdf",
    ),
]
