"""The on-call pages: who sees and manages what (403, 404 across organizations and brands), forms that
refuse bad input with a clear message, hostile text stored verbatim and shown escaped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from tertulia.teamops.actions import add_override, add_time_off
from tertulia.teamops.models import MAX_NOTE, HandoverNote, Override, Rotation, TimeOff, WorkingHours
from tertulia.teamops.tests.support import HOSTILE, Crew, actor, crew, long_note, member, utc, weekly
from tertulia.web.tests.helpers import signed_in

__all__ = ["crew"]

pytestmark = pytest.mark.django_db


def rotation_form(crew: Crew, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Fin de semana",
        "timezone": "Europe/Madrid",
        "all_brands": "on",
        "shift_days": "7",
        "handover_weekday": "0",
        "handover_time": "09:00",
        "starts_on": "2026-01-05",
        "is_active": "on",
        "member_0": str(member(crew.ana, crew.org).pk),
        "member_1": str(member(crew.bea, crew.org).pk),
    }
    data.update(changes)
    return data


def test_everyone_sees_the_on_call_page_with_hostile_text_escaped(crew: Crew) -> None:
    rotation = weekly(
        crew, [crew.ana, crew.bea], name=HOSTILE, starts_on=timezone.localdate() - timedelta(days=30)
    )
    HandoverNote.objects.create(rotation=rotation, author=crew.ana, handover_at=timezone.now(), text=HOSTILE)
    page = signed_in(crew.analyst).get(reverse("web:oncall"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert 'id="oncall-schedule"' in html and 'id="handover-notes"' in html
    assert 'id="override-form"' not in html  # the analyst does not manage rotations
    owner_page = signed_in(crew.owner).get(reverse("web:oncall")).content.decode()
    assert 'id="override-form"' in owner_page
    team = signed_in(crew.ana).get(reverse("web:team")).content.decode()
    assert reverse("web:oncall") in team and reverse("web:time-off") in team


def test_roles_without_the_permission_get_403(crew: Crew) -> None:
    rotation = weekly(crew, [crew.ana])
    for user in (crew.ana, crew.analyst):
        client = signed_in(user)
        assert client.get(reverse("web:oncall-rotations")).status_code == 403
        assert client.post(reverse("web:oncall-rotations"), rotation_form(crew)).status_code == 403
        assert client.post(reverse("web:oncall-rotation-delete", args=[rotation.pk])).status_code == 403
        assert client.post(reverse("web:oncall-override-add"), {"rotation": rotation.pk}).status_code == 403
    assert Rotation.objects.count() == 1


def test_a_manager_creates_and_edits_a_rotation(crew: Crew) -> None:
    client = signed_in(crew.manager)
    response = client.post(reverse("web:oncall-rotations"), rotation_form(crew))
    rotation = Rotation.objects.get(name="Fin de semana")
    assert response.status_code == 302 and response["Location"] == reverse(
        "web:oncall-rotation", args=[rotation.pk]
    )
    assert [m.membership.user for m in rotation.members.order_by("position")] == [crew.ana, crew.bea]
    response = client.post(
        reverse("web:oncall-rotation", args=[rotation.pk]), rotation_form(crew, shift_days="1", member_1="")
    )
    assert response.status_code == 302
    rotation.refresh_from_db()
    assert rotation.shift_days == 1 and rotation.members.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"shift_days": "abc"}, "whole number of days"),
        ({"shift_days": "99"}, "from 1 to 28 days"),
        ({"timezone": "Mars/Olympus"}, "time zone from the list"),
        ({"handover_time": "25:00"}, "such as 09:00"),
        ({"starts_on": "2026-02-30"}, "such as 2026-01-05"),
        ({"name": "   "}, "Give the rotation a name"),
        ({"name": "x" * 5000}, "too long"),
        ({"member_2": "999999"}, "active member"),
        ({"member_2": "'; drop"}, "Choose a person"),
        ({"all_brands": "", "brands": []}, "Choose the brands"),
    ],
)
def test_bad_rotation_input_is_a_clear_error(crew: Crew, changes: dict[str, object], message: str) -> None:
    response = signed_in(crew.owner).post(reverse("web:oncall-rotations"), rotation_form(crew, **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Rotation.objects.exists()


def test_another_organizations_objects_are_not_found(crew: Crew) -> None:
    rotation = weekly(crew, [crew.ana, crew.bea])
    override = add_override(actor(crew.owner), rotation, crew.bea, utc(2026, 3, 24), utc(2026, 3, 25))
    span = add_time_off(actor(crew.ana), member(crew.ana, crew.org), utc(2026, 3, 24), utc(2026, 3, 25))
    rival = signed_in(crew.rival)
    assert rival.get(reverse("web:oncall-rotation", args=[rotation.pk])).status_code == 404
    assert rival.post(reverse("web:oncall-rotation-delete", args=[rotation.pk])).status_code == 404
    assert rival.post(reverse("web:oncall-override-delete", args=[override.pk])).status_code == 404
    assert rival.post(reverse("web:time-off-delete", args=[span.pk])).status_code == 404
    assert rival.post(reverse("web:oncall-note"), {"rotation": rotation.pk, "text": "x"}).status_code == 404
    # Someone else's time off in the same organization is not found either.
    assert signed_in(crew.bea).post(reverse("web:time-off-delete", args=[span.pk])).status_code == 404
    assert (
        Rotation.objects.filter(pk=rotation.pk).exists() and Override.objects.filter(pk=override.pk).exists()
    )
    assert TimeOff.objects.filter(pk=span.pk).exists()
    assert HOSTILE not in rival.get(reverse("web:oncall")).content.decode()


def test_a_member_limited_to_some_brands_sees_only_their_rotations(crew: Crew) -> None:
    weekly(crew, [crew.ana], name="Solo Marca", all_brands=False, brands=[crew.brand])
    weekly(crew, [crew.limited], name="Solo Otra", all_brands=False, brands=[crew.other])
    html = signed_in(crew.limited).get(reverse("web:oncall")).content.decode()
    assert "Solo Otra" in html and "Solo Marca" not in html


def test_people_record_their_own_time_off_and_hours(crew: Crew) -> None:
    client = signed_in(crew.ana)
    response = client.post(
        reverse("web:time-off"),
        {"form": "time_off", "starts_at": "2027-08-01T00:00", "ends_at": "2027-08-15T00:00", "note": HOSTILE},
    )
    assert response.status_code == 302
    span = TimeOff.objects.get(membership__user=crew.ana)
    # Read in the brand's zone (Madrid, summer time): midnight is 22:00 UTC the day before.
    assert span.starts_at == utc(2027, 7, 31, 22) and span.note == HOSTILE
    html = client.get(reverse("web:time-off")).content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    bad = client.post(reverse("web:time-off"), {"form": "time_off", "starts_at": "tomorrow", "ends_at": ""})
    assert bad.status_code == 400 and "give a date and a time" in bad.content.decode()
    backwards = client.post(
        reverse("web:time-off"),
        {"form": "time_off", "starts_at": "2026-08-02T00:00", "ends_at": "2026-08-01T00:00"},
    )
    assert backwards.status_code == 400 and "after the start" in backwards.content.decode()
    hours = client.post(
        reverse("web:time-off"),
        {"form": "hours", "timezone": "America/Mexico_City", "hours_mon": "9:00-14:00, 16:00-19:00"},
    )
    assert hours.status_code == 302
    saved = WorkingHours.objects.get(membership__user=crew.ana)
    assert saved.timezone == "America/Mexico_City" and saved.week == {
        "mon": [["09:00", "14:00"], ["16:00", "19:00"]]
    }
    wrong = client.post(
        reverse("web:time-off"), {"form": "hours", "timezone": "UTC", "hours_tue": "18:00-09:00"}
    )
    assert wrong.status_code == 400 and "must end after it starts" in wrong.content.decode()
    assert WorkingHours.objects.get(membership__user=crew.ana).week["mon"]  # nothing lost


def test_hand_over_notes_and_overrides_from_the_page(crew: Crew) -> None:
    rotation = weekly(crew, [crew.ana, crew.bea])
    response = signed_in(crew.bea).post(
        reverse("web:oncall-note"), {"rotation": rotation.pk, "text": HOSTILE}
    )
    assert response.status_code == 302
    assert HandoverNote.objects.get(rotation=rotation).text == HOSTILE
    refused = signed_in(crew.analyst).post(
        reverse("web:oncall-note"), {"rotation": rotation.pk, "text": "hola"}, follow=True
    )
    assert "Only the rotation" in refused.content.decode() and HandoverNote.objects.count() == 1
    owner = signed_in(crew.owner)
    data = {
        "rotation": rotation.pk,
        "user": crew.manager.pk,
        "starts_at": "2026-12-24T18:00",
        "ends_at": "2026-12-26T09:00",
    }
    assert owner.post(reverse("web:oncall-override-add"), data).status_code == 302
    override = Override.objects.get(rotation=rotation)
    assert override.user == crew.manager and override.starts_at == utc(2026, 12, 24, 17)
    bad = owner.post(reverse("web:oncall-override-add"), {**data, "ends_at": "nope"}, follow=True)
    assert "give a date and a time" in bad.content.decode() and Override.objects.count() == 1
    assert owner.post(reverse("web:oncall-override-delete", args=[override.pk])).status_code == 302
    assert not Override.objects.exists()


def test_a_long_hand_over_note_is_kept_whole_and_shown_whole(crew: Crew) -> None:
    rotation = weekly(crew, [crew.ana, crew.bea])
    text = long_note()  # 2,000 characters: emoji, right-to-left text, markup, line breaks
    response = signed_in(crew.bea).post(reverse("web:oncall-note"), {"rotation": rotation.pk, "text": text})
    assert response.status_code == 302
    note = HandoverNote.objects.get(rotation=rotation)
    assert note.text == text
    html = signed_in(crew.ana).get(reverse("web:oncall")).content.decode()
    assert f'id="note-{note.pk}"' in html
    assert escape(text).replace("\n", "<br>") in html
    assert "<b>ojo</b>" not in html


def test_a_note_too_long_is_refused_and_given_back(crew: Crew) -> None:
    rotation = weekly(crew, [crew.ana, crew.bea])
    # Past the limit only after many spaces: cutting the input first would have saved it without "fin".
    text = "a" * (MAX_NOTE - 1) + " " * 10 + "fin"
    response = signed_in(crew.bea).post(reverse("web:oncall-note"), {"rotation": rotation.pk, "text": text})
    assert response.status_code == 422
    html = response.content.decode()
    assert f"at most {MAX_NOTE} characters" in html
    assert f">{text}</textarea>" in html  # nothing the person wrote is lost
    assert f'<option value="{rotation.pk}" selected>' in html
    assert not HandoverNote.objects.exists()
