from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta

import pytest
from django.utils import timezone

from tertulia.connectors.sandbox import network
from tertulia.connectors.sandbox.models import (
    SandboxAccount,
    SandboxCrisis,
    SandboxFollow,
    SandboxInboundEvent,
    SandboxMessage,
    SandboxPost,
    SandboxSimulation,
)
from tertulia.connectors.sandbox.simulator import community, control, corpus, pump
from tertulia.connectors.sandbox.simulator.planner import (
    BLOGGER_OFFSET,
    BLOGGER_PERIOD,
    CrisisSpec,
    PlannedMessage,
    TickPlan,
    plan_burst,
    plan_tick,
)
from tertulia.connectors.sandbox.simulator.seeding import seeded
from tertulia.connectors.sandbox.stats import hourly_inbound_volume
from tertulia.connectors.sandbox.validation import MAX_POST_LENGTH


def texts(plans: Iterable[TickPlan]) -> list[str]:
    return [m.text for plan in plans for m in plan.messages]


def negative_share(messages: Iterable[PlannedMessage]) -> float:
    messages = list(messages)
    return sum(m.category in corpus.NEGATIVE for m in messages) / max(len(messages), 1)


def community_texts(simulation_id: int | None = None) -> list[str]:
    posts = SandboxPost.objects.exclude(meta__category="brand").exclude(meta={})
    messages = SandboxMessage.objects.exclude(meta={})
    if simulation_id is not None:
        posts, messages = (
            posts.filter(meta__simulation=simulation_id),
            messages.filter(meta__simulation=simulation_id),
        )
    return [p.text for p in posts.order_by("id")] + [m.text for m in messages.order_by("id")]


# ---------------------------------------------------------------- pure planning


def test_same_seed_same_plan_different_seed_different_plan():
    first = [plan_tick(7, n, 60, ["marca"]) for n in range(1, 200)]
    again = [plan_tick(7, n, 60, ["marca"]) for n in range(1, 200)]
    other = [plan_tick(8, n, 60, ["marca"]) for n in range(1, 200)]
    assert first == again
    assert len(texts(first)) > 100
    assert texts(first) != texts(other)


def test_rate_sets_the_volume():
    slow = sum(len(plan_tick(3, n, 12, ["marca"]).messages) for n in range(1, 901))
    fast = sum(len(plan_tick(3, n, 120, ["marca"]).messages) for n in range(1, 901))
    # 30 minutes at 12/min is about 360 messages; at 120/min about 3,600.
    assert 250 < slow < 500
    assert 3_000 < fast < 4_200


def test_a_crisis_adds_negative_traffic_without_changing_the_rest():
    crisis = CrisisSpec(topic="food poisoning", multiplier=8)
    calm = [plan_tick(5, n, 30, ["marca"]) for n in range(1, 301)]
    storm = [plan_tick(5, n, 30, ["marca"], crisis) for n in range(1, 301)]
    calm_messages = [m for p in calm for m in p.messages]
    storm_messages = [m for p in storm for m in p.messages]
    assert len(storm_messages) > 5 * len(calm_messages)
    assert negative_share(storm_messages) > 0.8 > 0.4 > negative_share(calm_messages)
    # The base traffic is still there, unchanged (only the blogger switches to the crisis topic).
    community_only = [m.text for p in calm for m in p.messages if m.author != community.BLOGGER_HANDLE]
    assert set(community_only) <= set(texts(storm))
    topical = [m.text for m in storm_messages if m.topic]
    assert any("#intoxicación" in t or "#foodpoisoning" in t for t in topical)


def test_free_text_crisis_topics_are_used_verbatim():
    storm = plan_tick(1, 10, 60, ["marca"], CrisisSpec(topic="retirada del producto X", multiplier=20))
    assert any("retirada del producto X" in m.text or "#retrasos" in m.text for m in storm.messages)
    assert corpus.crisis_topic("#intoxicación") is corpus.crisis_topic("food poisoning") is not None
    assert corpus.crisis_topic("something else") is None


def test_the_blogger_complains_periodically():
    blogger_ticks = [
        n
        for n in range(1, 3 * BLOGGER_PERIOD + 1)
        for m in plan_tick(9, n, 12, ["marca"]).messages
        if m.author == community.BLOGGER_HANDLE
    ]
    assert blogger_ticks == [BLOGGER_OFFSET + k * BLOGGER_PERIOD for k in range(3)]
    complaint = next(
        m
        for m in plan_tick(9, BLOGGER_OFFSET, 12, ["marca"]).messages
        if m.author == community.BLOGGER_HANDLE
    )
    assert complaint.category == corpus.COMPLAINT and complaint.language == "es"


def test_corpus_is_varied_bilingual_and_within_limits():
    messages = [plan_burst(2026, i, ["marca"]) for i in range(5_000)]
    distinct = {m.text for m in messages}
    assert len(distinct) > 3_500
    assert Counter(m.language for m in messages).keys() == {"es", "en"}
    assert Counter(m.category for m in messages).keys() == set(corpus.CATEGORIES)
    assert Counter(m.kind for m in messages).keys() == {"mention", "reply", "quote", "dm"}
    assert all(len(m.text) <= MAX_POST_LENGTH for m in messages)
    assert all(not re.search(r"\{\w+\}", m.text) for m in messages)  # no slot left unfilled
    emoji = re.compile(r"[\U0001F300-\U0001FAFF\u2600-\u27BF]")
    assert sum(bool(emoji.search(m.text)) for m in messages) > 500
    assert sum("#" in m.text for m in messages) > 500


def test_seeded_streams_are_stable_across_processes():
    # A literal: if this changes, every recorded demo and benchmark changes with it.
    assert seeded("sandbox", 1, 1).random() == seeded("sandbox", 1, 1).random()
    assert [seeded("x", 1).randrange(1000) for _ in range(2)] == [seeded("x", 1).randrange(1000)] * 2


# ---------------------------------------------------------------- against the database


@pytest.mark.django_db
def test_community_and_the_blogger_with_exactly_10000_followers():
    simulation = control.ensure_simulation(["marca_uno"], seed=1, rate_per_minute=12)
    blogger = SandboxAccount.objects.get(handle=community.BLOGGER_HANDLE)
    assert blogger.followers_count == community.BLOGGER_FOLLOWERS == 10_000
    assert SandboxFollow.objects.filter(followee=blogger).count() == 10_000
    counts = sorted(
        SandboxAccount.objects.filter(handle__in=[p.handle for p in community.speakers()]).values_list(
            "followers_count", flat=True
        )
    )
    assert len(counts) == len(community.speakers())
    assert counts[len(counts) // 2] < 20 < 500 < counts[-1]  # a heavy tail: most small, a few large
    brand = SandboxAccount.objects.get(handle="marca_uno")
    assert (
        brand.is_brand and brand.followers_count == SandboxFollow.objects.filter(followee=brand).count() > 0
    )
    assert control.ensure_simulation(["@Marca_Uno"], seed=1, rate_per_minute=12).pk == simulation.pk
    assert SandboxAccount.objects.get(handle=community.BLOGGER_HANDLE).followers_count == 10_000


@pytest.mark.django_db
def test_bursts_are_deterministic_per_seed():
    assert control.generate_burst(["marca_a"], 40, seed=11) == 40
    first = community_texts()
    SandboxPost.objects.all().delete()
    SandboxMessage.objects.all().delete()
    control.generate_burst(["marca_a"], 40, seed=11)
    assert community_texts() == first
    SandboxPost.objects.all().delete()
    SandboxMessage.objects.all().delete()
    control.generate_burst(["marca_a"], 40, seed=12)
    assert community_texts() != first


@pytest.mark.django_db
def test_pump_generates_what_the_plan_says_once():
    simulation = control.ensure_simulation(["marca_p"], seed=4, rate_per_minute=30)
    now = simulation.started_at + timedelta(minutes=2)
    generated = pump.run_due_ticks(now)
    expected = sum(len(plan_tick(4, n, 30, ["marca_p"]).messages) for n in range(1, 61))
    assert generated == expected == len(community_texts(simulation.pk))
    assert pump.run_due_ticks(now) == 0
    simulation.refresh_from_db()
    assert simulation.last_tick == 60
    assert SandboxInboundEvent.objects.filter(recipient__handle="marca_p").count() == expected


@pytest.mark.django_db
def test_catch_up_after_a_long_pause_is_capped():
    simulation = control.ensure_simulation(["marca_c"], seed=4, rate_per_minute=60)
    now = simulation.started_at + timedelta(hours=2)
    pump.run_due_ticks(now)
    simulation.refresh_from_db()
    assert simulation.last_tick == 3_600
    ticks = set(
        SandboxPost.objects.filter(meta__simulation=simulation.pk).values_list("meta__tick", flat=True)
    )
    assert ticks and min(ticks) > 3_600 - pump.CATCH_UP_TICKS
    assert not SandboxInboundEvent.objects.filter(created_at__gt=now).exists()


@pytest.mark.django_db
def test_a_stale_claim_loses():
    simulation = control.ensure_simulation(["marca_r"], seed=4, rate_per_minute=0)
    # Two workers read last_tick = 0; the first to update wins, the second matches no row.
    assert pump.claim(simulation.pk, 0, 30)
    assert not pump.claim(simulation.pk, 0, 30)
    simulation.refresh_from_db()
    assert simulation.last_tick == 30


@pytest.mark.django_db
def test_stop_and_rate_control_the_pump():
    simulation = control.ensure_simulation(["marca_s"], seed=4, rate_per_minute=60)
    assert control.stop_simulation(["marca_s"])
    assert pump.run_due_ticks(simulation.started_at + timedelta(minutes=1)) == 0
    control.ensure_simulation(["marca_s"], seed=4, rate_per_minute=0)
    assert control.set_rate(["marca_s"], 0).rate_per_minute == 0
    assert pump.run_due_ticks(simulation.started_at + timedelta(minutes=2)) == 0
    with pytest.raises(control.NoSimulation):
        control.set_rate(["nadie_simulado"], 10)
    with pytest.raises(ValueError):
        control.set_rate(["marca_s"], -1)


@pytest.mark.django_db
def test_a_staged_crisis_raises_volume_and_negativity():
    simulation = control.ensure_simulation(["marca_k"], seed=21, rate_per_minute=20)
    start = simulation.started_at
    crisis = control.stage_crisis(["marca_k"], topic="data leak", minutes=4, multiplier=8)
    # Replay it at a known place in the simulation's timeline: minutes 4 to 8.
    SandboxCrisis.objects.filter(pk=crisis.pk).update(
        started_at=start + timedelta(minutes=4), ends_at=start + timedelta(minutes=8)
    )
    pump.run_due_ticks(start + timedelta(minutes=8))

    def window(lo: int, hi: int) -> list[str]:
        posts = SandboxPost.objects.filter(
            meta__simulation=simulation.pk,
            created_at__gte=start + timedelta(minutes=lo),
            created_at__lt=start + timedelta(minutes=hi),
        ).exclude(meta__category="brand")
        messages = SandboxMessage.objects.filter(
            meta__simulation=simulation.pk,
            created_at__gte=start + timedelta(minutes=lo),
            created_at__lt=start + timedelta(minutes=hi),
        )
        return [p.meta["category"] for p in posts] + [m.meta["category"] for m in messages]

    calm, storm = window(0, 4), window(4, 8)
    assert len(storm) > 4 * len(calm) > 0

    def share(categories: list[str]) -> float:
        return sum(c in corpus.NEGATIVE for c in categories) / len(categories)

    assert share(storm) > 0.75 > share(calm)
    assert SandboxPost.objects.filter(meta__topic="data leak").exists()


@pytest.mark.django_db
def test_stage_crisis_without_a_simulation_and_listing():
    crisis = control.stage_crisis(["@Marca_Nueva"], minutes=10)
    assert crisis.is_active
    assert crisis.topic in {t.label for t in corpus.CRISIS_TOPICS}
    simulation = SandboxSimulation.objects.get(key="marca_nueva")
    assert simulation.enabled and simulation.rate_per_minute == 0
    second = control.stage_crisis(["marca_nueva"], topic="#intoxicación", minutes=5, multiplier=3)
    assert second.topic == "#intoxicación"
    assert list(control.crises_for(["marca_nueva", "otra_marca"])) == [second, crisis]  # newest first
    assert list(control.crises_for(["otra_marca"])) == []
    past = timezone.now() - timedelta(hours=1)
    SandboxCrisis.objects.filter(pk=crisis.pk).update(started_at=past, ends_at=past + timedelta(minutes=10))
    crisis.refresh_from_db()
    assert not crisis.is_active
    with pytest.raises(ValueError):
        control.stage_crisis(["marca_nueva"], minutes=0)
    with pytest.raises(ValueError):
        control.stage_crisis(["marca_nueva"], multiplier=1)


@pytest.mark.django_db
def test_hourly_inbound_volume_is_zero_filled_and_utc():
    brand = network.create_account("marca_v", is_brand=True)
    fan = network.create_account("fan_v")
    now = timezone.now()
    for hours_ago, count in ((0, 3), (2, 2), (30, 5)):
        for _ in range(count):
            network.post(fan, f"@marca_v hola {hours_ago}", now=now - timedelta(hours=hours_ago))
    volume = hourly_inbound_volume(["marca_v"], hours=24, now=now)
    assert len(volume) == 24
    assert [b for b, _n in volume] == sorted(b for b, _n in volume)
    assert all(b.utcoffset() == timedelta(0) and b.minute == 0 for b, _n in volume)
    assert [n for _b, n in volume][-3:] == [2, 0, 3]
    assert sum(n for _b, n in volume) == 5  # the 30-hour-old ones are outside the window
    network.block(brand, fan)
    assert hourly_inbound_volume([], hours=2, now=now) == [(b, 0) for b, _n in volume[-2:]]


@pytest.mark.django_db
def test_traffic_wakes_the_inbox_reader_of_the_channels_it_reaches():
    from datetime import timedelta

    from django.utils import timezone

    from tertulia.core.models import Brand, Channel, Organization
    from tertulia.inbox.models import ChannelCursor

    organization = Organization.objects.create(name="Org", slug="org")
    brand = Brand.objects.create(organization=organization, name="Marca", slug="marca")
    later = timezone.now() + timedelta(hours=1)
    reached, other = (
        Channel.objects.create(organization=organization, brand=brand, network="sandbox", handle=handle)
        for handle in ("marca_w", "marca_z")
    )
    for channel in (reached, other):
        ChannelCursor.objects.create(channel=channel, next_poll_at=later)
    control.generate_burst(["marca_w"], 3, seed=1)
    assert ChannelCursor.objects.get(channel=reached).next_poll_at <= timezone.now()
    assert ChannelCursor.objects.get(channel=other).next_poll_at == later


def test_the_pump_is_registered_with_the_ticker():
    from tertulia.connectors.sandbox import tasks
    from tertulia.tasks.ticker import JOBS

    assert JOBS["sandbox.pump"].func is tasks.pump_simulations
    assert JOBS["sandbox.pump"].every == 2.0


def test_spanish_texts_use_the_contractions_del_and_al():
    import random

    from tertulia.connectors.sandbox.simulator import corpus

    rng = random.Random(5)
    texts = [corpus.community_message(c, "es", rng) for c in corpus.CATEGORIES for _ in range(300)]
    assert not [t for t in texts if " de el " in t or " a el " in t]
    assert (
        corpus.contract_articles("Fui a el pueblo de el sur, a ella y de ellos")
        == "Fui al pueblo del sur, a ella y de ellos"
    )
