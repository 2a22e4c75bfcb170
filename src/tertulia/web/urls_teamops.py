"""Routes of the web app for teamops (docs/team-operations.md)."""

from __future__ import annotations

from django.urls import URLPattern, path

from tertulia.web.views import oncall
from tertulia.web.views import workload as workload_views

urlpatterns: list[URLPattern] = [
    path("team/on-call/", oncall.oncall_page, name="oncall"),
    path("team/on-call/notes/", oncall.oncall_note, name="oncall-note"),
    path("team/on-call/overrides/", oncall.override_add, name="oncall-override-add"),
    path(
        "team/on-call/overrides/<int:override_id>/delete/",
        oncall.override_delete,
        name="oncall-override-delete",
    ),
    path("team/on-call/rotations/", oncall.rotation_list, name="oncall-rotations"),
    path("team/on-call/rotations/<int:rotation_id>/", oncall.rotation_edit, name="oncall-rotation"),
    path(
        "team/on-call/rotations/<int:rotation_id>/delete/",
        oncall.rotation_delete,
        name="oncall-rotation-delete",
    ),
    path("team/time-off/", oncall.time_off, name="time-off"),
    path("team/time-off/<int:time_off_id>/delete/", oncall.time_off_delete, name="time-off-delete"),
    path("team/workload/", workload_views.workload_page, name="workload"),
    path("team/workload.csv", workload_views.workload_csv, name="workload-csv"),
]
