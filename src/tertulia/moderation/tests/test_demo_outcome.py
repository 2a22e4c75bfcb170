"""Issue 4's "done when", end to end on the sandbox network: the demo's policy hides spam while
escalating the influential blogger's complaint instead of blocking her."""

from __future__ import annotations

import pytest

from tertulia.connectors.registry import connector_for
from tertulia.connectors.sandbox import network
from tertulia.connectors.sandbox.models import SandboxAccount, SandboxBlock, SandboxPost
from tertulia.connectors.sandbox.simulator.community import BLOGGER_FOLLOWERS, BLOGGER_HANDLE
from tertulia.core.models import AuditEntry, Role
from tertulia.demo import content
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.models import Message, Notification, NotificationKind
from tertulia.moderation.actions.rules import create_rule
from tertulia.moderation.choices import ActionStatus, ActionType
from tertulia.moderation.models import ModerationAction

from .conftest import INSULT, SPAM, SYSTEM, World

pytestmark = pytest.mark.django_db

BLOGGER_COMPLAINT = (
    "Reseña sincera en el blog esta semana: el pan de masa madre, decepcionante. "
    "Y la atención al cliente, peor"
)


def _demo_policy(world: World) -> None:
    for name, enabled, stop, conditions, actions in content.MODERATION_RULES:
        create_rule(
            SYSTEM,
            world.brand,
            name=name,
            conditions=conditions,
            actions=actions,
            enabled=enabled,
            stop_processing=stop,
        )


def test_the_policy_hides_spam_and_escalates_the_bloggers_complaint_instead_of_blocking_her(
    world: World, django_capture_on_commit_callbacks
) -> None:
    _demo_policy(world)
    brand_account = SandboxAccount.objects.get(handle=world.channel.handle)
    spammer = network.create_account("promo_facil", "Promo")
    blogger = network.create_account(BLOGGER_HANDLE, "Lucía | Vinos y catas")
    SandboxAccount.objects.filter(pk=blogger.pk).update(followers_count=BLOGGER_FOLLOWERS)
    ours = network.post(
        brand_account, "¡Ya está aquí el turrón artesano de temporada! Cuéntanos qué te parece 👇"
    )
    spam = network.reply(spammer, ours, SPAM)
    complaint = network.post(blogger, f"@{world.channel.handle} {BLOGGER_COMPLAINT}")
    insult = network.reply(blogger, ours, INSULT)

    page = connector_for(world.channel).fetch_inbound(None)
    with django_capture_on_commit_callbacks(execute=True):
        created = ingest(world.channel, page.items).created
    assert len(created) == 3

    # Spam: hidden on the network itself, and marked hidden in the inbox, tagged.
    spam.refresh_from_db()
    assert spam.is_hidden
    spam_message = Message.objects.get(channel=world.channel, remote_id=str(spam.pk))
    assert spam_message.is_hidden
    hide = ModerationAction.objects.get(message=spam_message, action_type=ActionType.HIDE)
    assert hide.status == ActionStatus.APPLIED and hide.automatic
    assert "Spam: ocultar" in hide.reason
    # (The spam and the blogger's insult are replies under the same post: one conversation.)
    assert "spam" in set(spam_message.conversation.tags.values_list("name", flat=True))

    # The blogger: escalated, managers notified, never blocked, her messages untouched.
    complaint_message = Message.objects.get(channel=world.channel, remote_id=str(complaint.pk))
    insult_message = Message.objects.get(channel=world.channel, remote_id=str(insult.pk))
    assert complaint_message.intent == "complaint"
    conversation = complaint_message.conversation
    assert conversation.escalated_at is not None
    notified = set(
        Notification.objects.filter(conversation=conversation, kind=NotificationKind.ESCALATION).values_list(
            "user_id", flat=True
        )
    )
    assert {world.owner.pk, world.manager.pk} <= notified
    block = ModerationAction.objects.get(message=insult_message, action_type=ActionType.BLOCK)
    assert block.status == ActionStatus.ESCALATED_INSTEAD
    assert "10,000 followers" in block.reason and "threshold is 5,000" in block.reason
    assert insult_message.conversation.escalated_at is not None
    assert not SandboxBlock.objects.filter(blocker=brand_account, blocked=blogger).exists()
    assert not SandboxPost.objects.filter(pk__in=[complaint.pk, insult.pk], is_hidden=True).exists()
    assert (
        not ModerationAction.objects.filter(
            message__in=[complaint_message, insult_message],
            status__in=[ActionStatus.APPLIED, ActionStatus.PENDING],
        )
        .exclude(action_type__in=[ActionType.TAG, ActionType.ESCALATE])
        .exists()
    )

    # Every step is in the organization's audit trail, with its reason.
    audited = AuditEntry.objects.filter(organization=world.org, object_type="moderation.action")
    assert audited.filter(action="moderation.hide").exists()
    assert audited.filter(action="moderation.applied").exists()
    assert audited.filter(action="moderation.block", changes__status=[None, "escalated_instead"]).exists()


def test_an_ordinary_abusive_author_is_blocked_on_the_network(
    world: World, django_capture_on_commit_callbacks
) -> None:
    _demo_policy(world)
    brand_account = SandboxAccount.objects.get(handle=world.channel.handle)
    troll = network.create_account("troll_cualquiera", "Troll")
    ours = network.post(brand_account, "Esta semana la tienda de Sevilla abre hasta las 21:00")
    network.reply(troll, ours, INSULT)
    with django_capture_on_commit_callbacks(execute=True):
        ingest(world.channel, connector_for(world.channel).fetch_inbound(None).items)
    assert SandboxBlock.objects.filter(blocker=brand_account, blocked=troll).exists()
    block = ModerationAction.objects.get(action_type=ActionType.BLOCK)
    assert block.status == ActionStatus.APPLIED
    assert world.owner.memberships.get().role == Role.OWNER
