"""The settings actions: values checked whatever the entry point, every change audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import deactivate_member
from tertulia.core.models import AuditEntry, Membership, Role
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.inbox.actions.common import ActionRefused
from tertulia.inbox.actions.settings import (
    InvalidSetting,
    delete_saved_reply,
    delete_tag,
    escalation_choices,
    rename_tag,
    save_saved_reply,
    update_inbox_settings,
    update_sla_policy,
)
from tertulia.inbox.actions.tags import change_tags
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.models import Assignment, Conversation, InboxSettings, SavedReply, SlaPolicy, Tag
from tertulia.inbox.sla import policy_for

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")
MADRID = {
    "timezone": "Europe/Madrid",
    "week": {d: [["09:00", "21:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")},
    "holidays": ["2026-12-25"],
}


@pytest.fixture
def brand():
    return make_brand(make_org(), "Marca")


def _audits(action: str) -> int:
    return AuditEntry.objects.filter(action=action).count()


def test_the_sla_policy_is_created_changed_and_audited(brand) -> None:
    policy = update_sla_policy(
        SYSTEM,
        brand,
        first_response_minutes=24 * 60,
        intent_targets={"complaint": 60, "question": None},
        business_hours=MADRID,
    )
    assert SlaPolicy.objects.get(brand=brand) == policy
    assert policy.intent_targets == {"complaint": 60}
    assert policy.business_hours["timezone"] == "Europe/Madrid"
    assert "sun" not in policy.business_hours["week"]
    assert _audits("inbox.sla_policy") == 1
    update_sla_policy(SYSTEM, brand, warn_before_minutes=30)
    entry = AuditEntry.objects.filter(action="inbox.sla_policy").latest("pk")
    assert entry.changes == {"warn_before_minutes": [15, 30]}
    update_sla_policy(SYSTEM, brand, warn_before_minutes=30)  # no change, no entry
    assert _audits("inbox.sla_policy") == 2
    assert policy_for(brand).warn_before_minutes == 30
    assert update_sla_policy(SYSTEM, brand, business_hours={}).business_hours == {}


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"first_response_minutes": 0}, "first_response_minutes"),
        ({"next_response_minutes": -5}, "next_response_minutes"),
        ({"critical_response_minutes": 10**9}, "critical_response_minutes"),
        ({"first_response_minutes": True}, "first_response_minutes"),
        ({"first_response_minutes": "60"}, "first_response_minutes"),
        ({"warn_before_minutes": -1}, "warn_before_minutes"),
        ({"intent_targets": {"complaint": 0}}, "intent_targets"),
        ({"intent_targets": {"rant": 60}}, "intent_targets"),
        ({"intent_targets": ["complaint"]}, "intent_targets"),
        ({"business_hours": {"timezone": "Mars/Olympus"}}, "business_hours"),
        (
            {"business_hours": {"timezone": "Europe/Madrid", "week": {"mon": [["21:00", "09:00"]]}}},
            "business_hours",
        ),
        ({"business_hours": {"timezone": "Europe/Madrid", "week": {"mon": [["9", "10"]]}}}, "business_hours"),
        ({"business_hours": {"timezone": "Europe/Madrid"}}, "business_hours"),  # never open
        ({"business_hours": {"timezone": "Europe/Madrid", "holidays": ["2026-02-30"]}}, "business_hours"),
        ({"business_hours": {"timezone": "UTC", "week": {"mon": [{"a": 1, "b": 2}]}}}, "business_hours"),
        ({"business_hours": {"timezone": "\x00"}}, "business_hours"),
        ({"business_hours": ["09:00"]}, "business_hours"),
        ({"business_hours": {"tz": "UTC"}}, "business_hours"),
    ],
)
def test_invalid_policies_are_refused_with_the_field(brand, values, field) -> None:
    with pytest.raises(InvalidSetting) as refused:
        update_sla_policy(SYSTEM, brand, **values)
    assert refused.value.field == field
    assert str(refused.value)
    assert not SlaPolicy.objects.filter(brand=brand).exists()
    assert _audits("inbox.sla_policy") == 0


def test_unknown_policy_fields_are_refused(brand) -> None:
    with pytest.raises(ActionRefused):
        update_sla_policy(SYSTEM, brand, business_hours={}, colour="red")


def test_a_new_policy_applies_to_clocks_that_start_afterwards(channel, item) -> None:
    update_sla_policy(SYSTEM, channel.brand, first_response_minutes=120, intent_targets={})
    ingest(channel, [item("¿Hacéis envíos a Francia?")])
    conversation = Conversation.objects.get(channel=channel)
    assert conversation.awaiting_since is not None
    assert conversation.due_at == conversation.awaiting_since + timedelta(minutes=120)


def test_inbox_settings_and_the_escalation_person(brand) -> None:
    org = brand.organization
    analyst = make_member(org, Role.ANALYST)
    stranger = make_member(make_org())
    settings = update_inbox_settings(SYSTEM, brand, assignment=Assignment.BALANCED, escalate_to=analyst)
    assert (settings.assignment, settings.escalate_to) == (Assignment.BALANCED, analyst)
    assert _audits("inbox.settings") == 1
    update_inbox_settings(SYSTEM, brand, assignment=Assignment.ROUND_ROBIN)  # escalate_to kept
    settings.refresh_from_db()
    assert (settings.assignment, settings.escalate_to) == (Assignment.ROUND_ROBIN, analyst)
    with pytest.raises(InvalidSetting) as refused:
        update_inbox_settings(SYSTEM, brand, escalate_to=stranger)
    assert refused.value.field == "escalate_to"
    with pytest.raises(InvalidSetting):
        update_inbox_settings(SYSTEM, brand, assignment="lottery")
    deactivate_member(SYSTEM, Membership.objects.get(organization=org, user=analyst))
    with pytest.raises(InvalidSetting):
        update_inbox_settings(SYSTEM, brand, escalate_to=analyst)
    assert analyst not in escalation_choices(brand)
    update_inbox_settings(SYSTEM, brand, escalate_to=None)
    assert InboxSettings.objects.get(brand=brand).escalate_to is None


def test_saved_replies_are_checked_and_audited(brand) -> None:
    reply = save_saved_reply(
        SYSTEM, brand, shortcut="/Envio ", language="ES", title="  Envíos  ", body="Hola {name}"
    )
    assert (reply.shortcut, reply.language, reply.title) == ("envio", "es", "Envíos")
    regional = save_saved_reply(SYSTEM, brand, shortcut="envio", language="pt-BR", title="Envio", body="Oi")
    assert regional.language == "pt-BR"
    assert _audits("inbox.saved_reply.create") == 2
    with pytest.raises(InvalidSetting) as twin:
        save_saved_reply(SYSTEM, brand, shortcut="envio", language="es", title="x", body="y")
    assert twin.value.field == "shortcut"
    save_saved_reply(
        SYSTEM, brand, reply, shortcut="envio", language="es", title="Envíos", body="Hola {agent}"
    )
    reply.refresh_from_db()
    assert reply.body == "Hola {agent}"
    assert AuditEntry.objects.get(action="inbox.saved_reply.update").changes == {
        "body": ["Hola {name}", "Hola {agent}"]
    }
    delete_saved_reply(SYSTEM, reply)
    assert not SavedReply.objects.filter(pk=reply.pk).exists()
    assert _audits("inbox.saved_reply.delete") == 1


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"shortcut": "   "}, "shortcut"),
        ({"shortcut": "envío"}, "shortcut"),
        ({"shortcut": "a b"}, "shortcut"),
        ({"shortcut": "x" * 41}, "shortcut"),
        ({"language": "español"}, "language"),
        ({"language": ""}, "language"),
        ({"title": " "}, "title"),
        ({"body": " \n "}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"body": "Hola {nombre}"}, "body"),
    ],
)
def test_bad_saved_replies_are_refused(brand, values, field) -> None:
    data = {
        "shortcut": "gracias",
        "language": "es",
        "title": "Gracias",
        "body": "¡Gracias, {name}!",
        **values,
    }
    with pytest.raises(InvalidSetting) as refused:
        save_saved_reply(SYSTEM, brand, **data)
    assert refused.value.field == field
    assert not SavedReply.objects.exists()


def test_a_reply_of_another_brand_cannot_be_saved_through_this_one(brand) -> None:
    reply = save_saved_reply(SYSTEM, brand, shortcut="a", language="es", title="a", body="a")
    other = make_brand(brand.organization, "Otra")
    with pytest.raises(ActionRefused):
        save_saved_reply(SYSTEM, other, reply, shortcut="a", language="es", title="b", body="b")


def test_tags_are_renamed_and_deleted_everywhere(channel, item) -> None:
    ingest(channel, [item("hola")])
    conversation = Conversation.objects.get(channel=channel)
    change_tags(SYSTEM, conversation, add=["envío", "urgente"])
    tag = Tag.objects.get(organization=channel.organization, name="envío")
    rename_tag(SYSTEM, tag, "  Envíos   Canarias ")
    assert sorted(conversation.tags.values_list("name", flat=True)) == ["envíos canarias", "urgente"]
    assert AuditEntry.objects.get(action="inbox.tag.rename").changes == {"name": ["envío", "envíos canarias"]}
    with pytest.raises(InvalidSetting) as taken:
        rename_tag(SYSTEM, tag, "URGENTE")
    assert taken.value.field == "name"
    with pytest.raises(InvalidSetting):
        rename_tag(SYSTEM, tag, "\u200b")
    assert rename_tag(SYSTEM, tag, "envíos canarias") == tag  # unchanged: no entry
    assert _audits("inbox.tag.rename") == 1
    delete_tag(SYSTEM, tag)
    assert list(conversation.tags.values_list("name", flat=True)) == ["urgente"]
    assert AuditEntry.objects.get(action="inbox.tag.delete").changes == {
        "name": ["envíos canarias", None],
        "conversations": [1, 0],
    }
