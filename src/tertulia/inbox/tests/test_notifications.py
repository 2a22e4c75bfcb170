from __future__ import annotations

import pytest

from tertulia.core.models import Role
from tertulia.core.tests.factories import make_member, make_org
from tertulia.inbox.models import Notification, NotificationKind
from tertulia.inbox.notifications import notify_people


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("/publish/posts/1/", "/publish/posts/1/"),
        ("//evil.example/x", ""),
        ("/\\evil.example/x", ""),
        ("https://evil.example/x", ""),
        ("javascript:alert(1)", ""),
    ],
)
def test_a_notification_links_only_inside_tertulia(url: str, kept: str):
    org = make_org()
    person = make_member(org, Role.COMMUNITY_MANAGER)
    notify_people(org.pk, [person, person, None], NotificationKind.PUBLISH_FAILED, "<b>x</b>", url=url)
    (note,) = Notification.objects.filter(user=person)
    assert note.url == kept and note.text == "<b>x</b>"


@pytest.mark.django_db
def test_a_long_notification_is_shortened_between_characters_and_a_short_one_is_whole():
    org = make_org()
    person = make_member(org, Role.COMMUNITY_MANAGER)
    flag = "\U0001f1ea\U0001f1f8"  # two code points, one flag
    notify_people(org.pk, [person], NotificationKind.PUBLISH_FAILED, "x" * 498 + flag + " más texto")
    notify_people(org.pk, [person], NotificationKind.PUBLISH_FAILED, "línea 1\nlínea 2 " + flag)
    long, short = Notification.objects.filter(user=person).order_by("pk")
    assert len(long.text) <= 500 and long.text == "x" * 498 + "…"  # not half a flag
    assert short.text == "línea 1\nlínea 2 " + flag
