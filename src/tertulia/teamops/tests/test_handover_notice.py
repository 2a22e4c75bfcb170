"""On-call notices: their own notification kind, and hand-over notes that are never lost: the notice
carries a preview cut at a word (never inside an emoji) and links to the note, kept whole."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from tertulia.core.preview import ELLIPSIS
from tertulia.inbox.models import Notification, NotificationKind
from tertulia.teamops import jobs
from tertulia.teamops.actions import add_time_off, oncall_path, write_note
from tertulia.teamops.models import HandoverNote, Rotation
from tertulia.teamops.tests.support import (
    Crew,
    actor,
    crew,
    long_note,
    member,
    utc,
    weekly,
)

__all__ = ["crew"]

# --- the notices --------------------------------------------------------------------------------------


def hand_over(crew: Crew, *texts: str) -> Rotation:
    rotation = weekly(crew, [crew.ana, crew.bea])
    with mock.patch("django.utils.timezone.now", return_value=utc(2026, 3, 25, 12)):
        for text in texts:
            write_note(actor(crew.bea), rotation, text)
    rotation.handover_told_at = utc(2026, 3, 23, 8)
    rotation.save()
    assert jobs.tell_handovers(utc(2026, 3, 30, 7, 1)) == 1
    return rotation


@pytest.mark.django_db
def test_a_hand_over_is_an_on_call_notification(crew: Crew) -> None:
    hand_over(crew, "Todo tranquilo")
    notice = Notification.objects.get(user=crew.ana)
    assert notice.kind == NotificationKind.ON_CALL
    assert notice.get_kind_display() == "On call"
    note = HandoverNote.objects.get()
    assert notice.url == f"{oncall_path()}#note-{note.pk}"
    assert "Todo tranquilo" in notice.text and "whole note" not in notice.text


@pytest.mark.django_db
def test_a_long_note_is_previewed_and_kept_whole(crew: Crew) -> None:
    text = long_note()
    hand_over(crew, text)
    note = HandoverNote.objects.get()
    assert note.text == text  # every character, the line breaks, the emoji, the right-to-left text
    notice = Notification.objects.get(user=crew.ana)
    limit = jobs.MAX_TEXT
    assert len(notice.text) <= limit and len(notice.text) > limit - 60
    assert notice.text.endswith(" Read the whole note on the On call page.")
    assert notice.url == f"{oncall_path()}#note-{note.pk}"
    assert "You are on call for Guardia" in notice.text
    start = notice.text.index("Cliente")
    shown = notice.text[start:].split("\u2069")[0]  # the preview, inside its isolate
    assert shown.endswith(ELLIPSIS)
    assert " ".join(text.split()).startswith(shown.removesuffix(ELLIPSIS))
    assert shown.removesuffix(ELLIPSIS)[-1] != "\u200d"


@pytest.mark.django_db
def test_several_notes_share_the_room_and_link_to_the_notes(crew: Crew) -> None:
    hand_over(crew, "primera " * 100, "segunda " * 100)
    notice = Notification.objects.get(user=crew.ana)
    assert len(notice.text) <= 500
    assert "primera" in notice.text and "segunda" in notice.text
    assert notice.text.endswith(" Read the whole notes on the On call page.")
    assert notice.url == f"{oncall_path()}#handover-notes"


@pytest.mark.django_db
def test_gap_warnings_are_on_call_notifications(crew: Crew) -> None:
    now = timezone.now()
    weekly(crew, [crew.ana], all_brands=False, brands=[crew.brand], starts_on=now.date() - timedelta(days=30))
    add_time_off(
        actor(crew.ana), member(crew.ana, crew.org), now + timedelta(days=2), now + timedelta(days=3)
    )
    assert jobs.warn_gaps(now) >= 1
    kinds = set(Notification.objects.values_list("kind", flat=True))
    assert kinds == {NotificationKind.ON_CALL}
    assert set(Notification.objects.values_list("url", flat=True)) == {f"{oncall_path()}#oncall-gaps"}
