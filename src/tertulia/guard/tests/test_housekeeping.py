"""What the guard learns on installation, and what it forgets."""

from __future__ import annotations

import importlib
from datetime import timedelta

from django.apps import apps
from django.utils import timezone

from tertulia.guard.models import KnownDevice, KnownDomain, OutgoingEvent
from tertulia.guard.tasks import prune
from tertulia.publishing.models import DeliveryTarget, PostState, TargetState

from .conftest import PostMaker, Team


def test_installing_the_guard_learns_the_domains_each_brand_already_used(team: Team, make_post: PostMaker):
    post = make_post("Ya publicado")
    post.state = PostState.PUBLISHED
    post.save()
    now = timezone.now()
    DeliveryTarget.objects.create(
        organization=team.org,
        brand=team.brand,
        post=post,
        variant=post.variants.get(),
        channel=team.channel,
        state=TargetState.SENT,
        due_at=now,
        next_attempt_at=now,
        sent_at=now - timedelta(days=3),
        payload={"text": "Mira https://www.Tienda.example.com/x?utm_source=sandbox y blog.example.org/y"},
        idempotency_key="hist-1",
    )
    migration = importlib.import_module("tertulia.guard.migrations.0002_known_domains_from_history")
    migration.learn_from_history(apps, None)
    migration.learn_from_history(apps, None)  # twice: nothing doubles
    assert sorted(KnownDomain.objects.filter(brand=team.brand).values_list("domain", flat=True)) == [
        "blog.example.org",
        "tienda.example.com",
    ]


def test_old_events_and_devices_are_pruned(team: Team):
    now = timezone.now()
    for days, item in ((40, "post:1"), (1, "post:2")):
        moment = now - timedelta(days=days)
        OutgoingEvent.objects.create(
            organization=team.org,
            brand=team.brand,
            channel=team.channel,
            user=team.author,
            kind="post",
            item=item,
            acted_at=moment,
            sends_at=moment,
            bucket=0,
            send_bucket=0,
        )
    KnownDevice.objects.create(
        user=team.author, family="curl", network="1.2.3.0/24", last_seen=now - timedelta(days=400)
    )
    KnownDevice.objects.create(user=team.author, family="curl", network="1.2.4.0/24", last_seen=now)
    assert prune(now) == 2
    assert list(OutgoingEvent.objects.values_list("item", flat=True)) == ["post:2"]
    assert list(KnownDevice.objects.values_list("network", flat=True)) == ["1.2.4.0/24"]
