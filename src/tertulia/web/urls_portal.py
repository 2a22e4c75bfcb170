"""Routes of the web app for the contributor portal and the guidelines library
(docs/contributor-portal.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from tertulia.web.views import guidelines, portal

urlpatterns: list[URLPattern] = [
    path("contribute/", portal.contribute, name="contribute"),
    path("contribute/queue/", portal.queue, name="contribute-queue"),
    path("contribute/<int:contribution_id>/", portal.triage, name="contribution-triage"),
    path("guidelines/", guidelines.library, name="guidelines"),
    path("guidelines/new/", guidelines.guideline_new, name="guideline-new"),
    path("guidelines/<int:guideline_id>/", guidelines.guideline_detail, name="guideline"),
    path("guidelines/<int:guideline_id>/edit/", guidelines.guideline_edit, name="guideline-edit"),
    path("guidelines/<int:guideline_id>/delete/", guidelines.guideline_delete, name="guideline-delete"),
]
