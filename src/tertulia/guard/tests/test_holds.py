"""Holding and releasing, end to end on the sandbox network: posts through the delivery ledger,
replies through the inbox's delivery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.signals import user_logged_in
from django.test import RequestFactory
from django.utils import timezone

from tertulia.connectors.sandbox.models import SandboxMessage, SandboxPost
from tertulia.core.models import AuditEntry
from tertulia.guard.actions import holds
from tertulia.guard.actions.common import AlreadyDecided, NotPermitted
from tertulia.guard.actions.settings import update_settings
from tertulia.guard.models import GuardHold, HoldState, KnownDevice, KnownDomain, OutgoingEvent
from tertulia.inbox import delivery
from tertulia.inbox.actions import replies
from tertulia.inbox.actions.common import ActionRefused
from tertulia.inbox.models import Delivery, Notification, NotificationKind
from tertulia.publishing.actions.scheduling import SchedulingRefused, approved, schedule
from tertulia.publishing.delivery.dispatcher import run_once
from tertulia.publishing.models import DeliveryTarget, PostState, TargetState

from .conftest import CURL, ELSEWHERE, OFFICE, SCAM, PostMaker, Team, actor, mention


def _published(team: Team) -> list[SandboxPost]:
    return list(SandboxPost.objects.filter(author__handle=team.channel.handle.lstrip("@")))


def _hold_of(post_id: int) -> GuardHold:
    return GuardHold.objects.get(post_id=post_id)


def test_a_held_post_never_reaches_the_network_and_goes_out_once_after_a_second_person_releases_it(
    team: Team, make_post: PostMaker
):
    post = make_post(SCAM)
    schedule(actor(team.author), post)
    post.refresh_from_db()
    assert post.state == PostState.APPROVED and post.scheduled_at is not None
    hold = _hold_of(post.pk)
    assert hold.state == HoldState.PENDING and hold.sent_by == team.author and hold.score >= hold.threshold
    assert {reason["code"] for reason in hold.reasons} >= {"scam_vocabulary", "new_domain"}
    assert "claim-btc.example.xyz" in hold.domains and hold.ip_address == OFFICE
    assert not DeliveryTarget.objects.filter(post=post).exists()
    assert run_once("w") == 0 and _published(team) == []
    # Scheduling it again is refused while it waits (an attacker cannot push it through).
    with pytest.raises(SchedulingRefused):
        schedule(actor(team.author), post)

    # The people who could release it were told; the sender was not.
    told = set(
        Notification.objects.filter(kind=NotificationKind.GUARD_HOLD).values_list("user_id", flat=True)
    )
    assert team.colleague.pk in told and team.owner.pk in told and team.author.pk not in told

    # The sender can never release their own.
    with pytest.raises(NotPermitted):
        holds.release(actor(team.author), hold)
    # Nor can someone who does not operate the channel, nor a contributor.
    for stranger in (team.outsider, team.contributor):
        with pytest.raises(NotPermitted):
            holds.release(actor(stranger), hold)
    assert _hold_of(post.pk).state == HoldState.PENDING and _published(team) == []

    released = holds.release(actor(team.colleague, ip="192.0.2.5"), hold, "Es nuestro sorteo")
    assert released.state == HoldState.RELEASED and released.decided_by == team.colleague
    post.refresh_from_db()
    assert post.state == PostState.SCHEDULED
    assert run_once("w") == 1
    assert [p.text for p in _published(team)] == [SCAM]
    assert run_once("w") == 0 and len(_published(team)) == 1  # exactly once
    with pytest.raises(AlreadyDecided):
        holds.release(actor(team.owner), hold)

    actions = list(AuditEntry.objects.filter(organization=team.org).values_list("action", flat=True))
    assert "guard.hold" in actions and "guard.release" in actions
    # The sender hears of it.
    assert Notification.objects.filter(user=team.author, kind=NotificationKind.GUARD_HOLD).exists()


def test_a_rejected_post_is_cancelled_and_never_published(team: Team, make_post: PostMaker):
    post = make_post(SCAM)
    schedule(actor(team.author), post)
    hold = holds.reject(actor(team.colleague), _hold_of(post.pk), "No es nuestro")
    assert hold.state == HoldState.REJECTED
    post.refresh_from_db()
    assert post.state == PostState.CANCELLED
    assert run_once("w") == 0 and _published(team) == []
    assert AuditEntry.objects.filter(action="guard.reject").exists()


def test_the_sender_may_withdraw_their_own(team: Team, make_post: PostMaker):
    post = make_post(SCAM)
    schedule(actor(team.author), post)
    hold = holds.reject(actor(team.author), _hold_of(post.pk))
    assert hold.state == HoldState.WITHDRAWN and hold.decided_by == team.author
    post.refresh_from_db()
    assert post.state == PostState.APPROVED  # to edit, or schedule again (and be judged again)
    assert _published(team) == []


def test_a_post_edited_while_held_cannot_be_released(team: Team, make_post: PostMaker):
    from tertulia.guard.actions.holds import Stale

    post = make_post(SCAM)
    schedule(actor(team.author), post)
    type(post).objects.filter(pk=post.pk).update(version=post.version + 1, state=PostState.DRAFT)
    with pytest.raises(Stale):
        holds.release(actor(team.colleague), _hold_of(post.pk))
    assert _hold_of(post.pk).state == HoldState.WITHDRAWN
    assert run_once("w") == 0 and _published(team) == []


def test_an_ordinary_post_goes_straight_through_and_teaches_the_guard(team: Team, make_post: PostMaker):
    post = make_post("Abrimos el domingo: https://tienda.example.com/horario")
    schedule(actor(team.author), post)
    post.refresh_from_db()
    assert post.state == PostState.SCHEDULED and not GuardHold.objects.exists()
    assert KnownDomain.objects.filter(brand=team.brand, domain="tienda.example.com").exists()
    assert KnownDevice.objects.filter(user=team.author, network="203.0.113.0/24").exists()
    assert OutgoingEvent.objects.filter(item=f"post:{post.pk}", held=False).count() == 1
    assert run_once("w") == 1 and len(_published(team)) == 1


def test_a_post_is_judged_on_who_scheduled_it_and_from_where(team: Team, make_post: PostMaker):
    """The same post from the usual place goes; from a new device and network, with a new link, it waits."""
    schedule(actor(team.author), make_post("Primera"))  # the guard learns the author's device
    usual = make_post("Nueva web: https://nueva.example.net/")
    schedule(actor(team.author), usual)
    usual.refresh_from_db()
    assert usual.state == PostState.SCHEDULED  # a new domain alone is not enough

    stranger = make_post("Nueva web: https://otra.example.org/")
    schedule(actor(team.author, ip=ELSEWHERE, agent=CURL), stranger)
    stranger.refresh_from_db()
    assert stranger.state == PostState.APPROVED
    hold = _hold_of(stranger.pk)
    assert {r["code"] for r in hold.reasons} == {"new_network", "new_device", "new_domain"}
    assert hold.device == "curl" and hold.network == "198.51.100.0/24"


def test_a_post_approved_days_ago_is_sent_by_the_scheduler_without_being_judged_again(
    team: Team, make_post: PostMaker
):
    post = make_post("Lanzamiento del lunes: https://lanzamiento.example.com/")
    post.scheduled_at = timezone.now() + timedelta(minutes=1)
    post.save()
    # The approval that completes its review schedules it: judged on the approver, from their place.
    approved(actor(team.colleague), post)
    post.refresh_from_db()
    assert post.state == PostState.SCHEDULED
    event = OutgoingEvent.objects.get(item=f"post:{post.pk}")
    assert event.user == team.colleague
    # Days later (here: its time comes) the scheduler sends it; nothing is judged then.
    DeliveryTarget.objects.filter(post=post).update(due_at=timezone.now(), next_attempt_at=timezone.now())
    assert run_once("w") == 1 and OutgoingEvent.objects.count() == 1


def test_an_approval_from_a_strange_place_holds_the_post(team: Team, make_post: PostMaker):
    schedule(actor(team.colleague), make_post("Primera"))
    post = make_post("Nueva web: https://rara.example.org/")
    post.scheduled_at = timezone.now() + timedelta(hours=2)
    post.save()
    approved(actor(team.colleague, ip=ELSEWHERE, agent=CURL), post)
    post.refresh_from_db()
    assert post.state == PostState.APPROVED and _hold_of(post.pk).sent_by == team.colleague


def test_after_release_the_domain_and_the_device_are_known(team: Team, make_post: PostMaker):
    schedule(actor(team.author), make_post("Primera"))
    first = make_post("Visítanos: https://nueva-tienda.example.org/")
    schedule(actor(team.author, ip=ELSEWHERE, agent=CURL), first)
    holds.release(actor(team.colleague), _hold_of(first.pk))
    again = make_post("Otra vez: https://nueva-tienda.example.org/ofertas")
    schedule(actor(team.author, ip=ELSEWHERE, agent=CURL), again)
    again.refresh_from_db()
    assert again.state == PostState.SCHEDULED  # a recurring case does not spam holds


def test_a_burst_with_a_new_link_is_held(team: Team, make_post: PostMaker):
    schedule(actor(team.author), make_post("Primera"))
    for n in range(8):
        schedule(actor(team.author), make_post(f"Post {n}"))
    post = make_post("Y ahora https://burst.example.org/")
    schedule(actor(team.author), post)
    codes = {r["code"] for r in _hold_of(post.pk).reasons}
    assert {"burst_person", "new_domain"} <= codes


def test_an_hour_outside_the_brands_pattern_counts(team: Team, make_post: PostMaker, scheduled_history):
    from zoneinfo import ZoneInfo

    scheduled_history(60, hour=11)  # 60 sends at 11:00 brand time
    team.brand.timezone = "Europe/Madrid"
    team.brand.save()
    zone = ZoneInfo("Europe/Madrid")
    night = timezone.now().astimezone(zone).replace(hour=3, minute=0, second=0, microsecond=0) + timedelta(
        days=1
    )
    schedule(actor(team.author), make_post("Primera"))  # the author's usual place
    daytime = make_post("A media mañana, desde otra red")
    schedule(actor(team.author, ip=ELSEWHERE), daytime, night.replace(hour=11))
    daytime.refresh_from_db()
    assert daytime.state == PostState.SCHEDULED  # a new network alone (25)
    usual_hour = make_post("A media mañana https://dia.example.org/")
    schedule(actor(team.author), usual_hour, night.replace(hour=11))
    usual_hour.refresh_from_db()
    assert usual_hour.state == PostState.SCHEDULED  # a new domain alone (25)
    post = make_post("De madrugada, desde un sitio nuevo https://noche.example.org/")
    schedule(actor(team.author, ip="192.0.2.99"), post, night)
    codes = {r["code"] for r in _hold_of(post.pk).reasons}
    assert codes == {"odd_hour", "new_domain", "new_network"}


@pytest.fixture
def scheduled_history(team: Team, make_post: PostMaker):
    from zoneinfo import ZoneInfo

    def make(count: int, hour: int) -> None:
        zone = ZoneInfo("Europe/Madrid")
        base = timezone.now().astimezone(zone).replace(hour=hour, minute=0, second=0, microsecond=0)
        for n in range(count):
            post = make_post(f"Histórico {n}")
            post.state = PostState.PUBLISHED
            post.save()
            sent = base - timedelta(days=n % 70 + 1)
            DeliveryTarget.objects.create(
                organization=team.org,
                brand=team.brand,
                post=post,
                variant=post.variants.get(),
                channel=team.channel,
                state=TargetState.SENT,
                due_at=sent,
                next_attempt_at=sent,
                sent_at=sent,
                idempotency_key=f"hist{n}",
            )

    return make


def test_settings_switch_signals_off_and_tune_sensitivity(team: Team, make_post: PostMaker):
    update_settings(actor(team.owner), team.org, check_vocabulary=False, check_domains=False)
    post = make_post(SCAM)
    schedule(actor(team.author), post)
    post.refresh_from_db()
    assert post.state == PostState.SCHEDULED
    update_settings(actor(team.owner), team.org, enabled=False, check_vocabulary=True)
    other = make_post(SCAM)
    schedule(actor(team.author), other)
    other.refresh_from_db()
    assert other.state == PostState.SCHEDULED
    update_settings(actor(team.owner), team.org, enabled=True, check_domains=True, sensitivity="high")
    mild = make_post("Nueva web https://mild.example.org/ gratis para ti")
    # new domain (25) alone: not held at normal, nor at high (35)
    schedule(actor(team.author), mild)
    mild.refresh_from_db()
    assert mild.state == PostState.SCHEDULED
    with pytest.raises(NotPermitted):
        update_settings(actor(team.author), team.org, enabled=False)


def test_trusted_domains_are_never_new(team: Team, make_post: PostMaker):
    update_settings(actor(team.owner), team.org, trusted_domains="https://www.Trusted.example/\n")
    schedule(actor(team.author), make_post("Primera"))
    post = make_post("Mira https://shop.trusted.example/x")
    schedule(actor(team.author, ip=ELSEWHERE, agent=CURL), post)
    post.refresh_from_db()
    assert post.state == PostState.SCHEDULED  # new device + network (40) and a trusted domain


def test_devices_are_learned_at_sign_in(team: Team):
    request = RequestFactory().get("/", REMOTE_ADDR=ELSEWHERE, HTTP_USER_AGENT=CURL)
    user_logged_in.send(sender=type(team.author), request=request, user=team.author)
    device = KnownDevice.objects.get(user=team.author)
    assert (device.family, device.network, device.source) == ("curl", "198.51.100.0/24", "sign_in")


# --- replies -------------------------------------------------------------------------------------


def test_a_held_reply_is_not_delivered_until_a_second_person_releases_it(team: Team):
    conversation = mention(team.channel)
    message = replies.send_reply(actor(team.author), conversation, SCAM)
    assert message.delivery == Delivery.HELD
    hold = GuardHold.objects.get(message=message)
    assert delivery.deliver(message.pk) == Delivery.HELD
    assert not SandboxPost.objects.filter(text=SCAM).exists()
    with pytest.raises(NotPermitted):
        holds.release(actor(team.author), hold)
    holds.release(actor(team.colleague), hold)
    message.refresh_from_db()
    assert message.delivery == Delivery.SENDING
    assert delivery.deliver(message.pk) == Delivery.SENT
    assert delivery.deliver(message.pk) == Delivery.SENT
    assert SandboxPost.objects.filter(text=SCAM).count() == 1


def test_a_rejected_reply_can_never_be_retried(team: Team):
    conversation = mention(team.channel)
    message = replies.send_reply(actor(team.author), conversation, SCAM)
    holds.reject(actor(team.colleague), GuardHold.objects.get(message=message), "Phishing")
    message.refresh_from_db()
    assert message.delivery == Delivery.REJECTED and message.delivery_error == "Phishing"
    with pytest.raises(ActionRefused):
        replies.retry_reply(actor(team.author), message)
    assert delivery.deliver(message.pk) == Delivery.REJECTED
    assert not SandboxPost.objects.filter(text=SCAM).exists()


def test_an_ordinary_reply_goes_out(team: Team):
    conversation = mention(team.channel)
    message = replies.send_reply(actor(team.author), conversation, "¡Sí, de 10 a 14!")
    assert message.delivery == Delivery.SENDING and not GuardHold.objects.exists()
    assert delivery.deliver(message.pk) == Delivery.SENT


def test_a_dm_with_a_phishing_lure_and_a_new_link_is_held(team: Team):
    from tertulia.connectors.sandbox import network

    customer = network.create_account("cliente_dm_guardia")
    network.send_dm(customer, network.get_account(team.channel.handle), "Hola")
    from tertulia.connectors.registry import connector_for
    from tertulia.inbox.ingest.pipeline import ingest
    from tertulia.inbox.models import Conversation

    ingest(team.channel, connector_for(team.channel).fetch_inbound().items)
    conversation = Conversation.objects.get(channel=team.channel, kind="direct")
    message = replies.send_reply(
        actor(team.author), conversation, "Verifica tu cuenta aquí: https://soporte-verifica.example.xyz"
    )
    assert message.delivery == Delivery.HELD
    assert delivery.deliver(message.pk) == Delivery.HELD
    assert not SandboxMessage.objects.filter(text__contains="Verifica").exists()


def test_a_check_costs_a_handful_of_queries(team: Team, make_post: PostMaker, django_assert_max_num_queries):
    from tertulia.guard.actions.holds import check_post

    schedule(actor(team.author), make_post("Primera https://tienda.example.com/"))
    post = make_post("Segunda https://tienda.example.com/")
    texts = ["Segunda https://tienda.example.com/"]
    check_post(actor(team.author), post, timezone.now(), texts, [team.channel])  # warms the hour cache
    with django_assert_max_num_queries(6):
        check_post(actor(team.author), post, timezone.now(), texts, [team.channel])
