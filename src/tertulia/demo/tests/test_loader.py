from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from tertulia.connectors.registry import connector_for
from tertulia.connectors.sandbox.simulator.pump import run_due_ticks
from tertulia.core.models import AuditEntry, Brand, Channel, Membership, Organization, Role, User
from tertulia.demo import content
from tertulia.demo.loader import PASSWORD_FILE, load_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_password_file():
    path = Path(settings.CONFIG.data_dir) / PASSWORD_FILE
    path.unlink(missing_ok=True)
    yield
    path.unlink(missing_ok=True)


def test_demo_builds_a_spanish_brand_with_its_team_and_sandbox_channels():
    login = load_demo(rate_per_minute=30, seed=7)
    org = Organization.objects.get(name=content.ORGANIZATION)
    brand = Brand.objects.get(organization=org, name=content.MAIN_BRAND["name"])
    assert brand.language == "es"
    assert brand.voice_guide and brand.audience
    assert brand.competitors.count() == len(content.COMPETITORS)
    assert brand.objectives.count() == 5
    roles = set(Membership.objects.filter(organization=org).values_list("role", flat=True))
    assert {Role.OWNER, Role.COMMUNITY_MANAGER, Role.BRAND_MANAGER, Role.ANALYST, Role.CONTRIBUTOR} <= roles
    assert Channel.objects.filter(organization=org, network="sandbox").count() == len(content.CHANNELS)
    owner = User.objects.get(email=login.email)
    assert owner.check_password(login.password)
    # Only the owner can sign in; the rest of the team is illustrative.
    assert not User.objects.get(email="lucia@example.com").has_usable_password()
    # Built through the actions layer, so the audit trail tells the story.
    assert AuditEntry.objects.filter(organization=org, action="channel.connect").count() == len(
        content.CHANNELS
    )


def test_the_password_is_random_per_data_directory_and_kept_across_runs():
    first = load_demo(rate_per_minute=0)
    second = load_demo(rate_per_minute=0)
    assert first.password == second.password
    assert len(first.password) >= 12
    (Path(settings.CONFIG.data_dir) / PASSWORD_FILE).unlink()
    third = load_demo(rate_per_minute=0)
    assert third.password != first.password
    assert User.objects.get(email=third.email).check_password(third.password)


def test_loading_twice_changes_nothing_but_the_traffic_rate():
    load_demo(rate_per_minute=12)
    counts = (
        Organization.objects.count(),
        Brand.objects.count(),
        Channel.objects.count(),
        AuditEntry.objects.count(),
    )
    load_demo(rate_per_minute=60)
    assert (Organization.objects.count(), Brand.objects.count(), Channel.objects.count()) == counts[:3]
    assert AuditEntry.objects.count() == counts[3]


def test_simulated_traffic_reaches_the_demo_channels_through_the_connector():
    load_demo(rate_per_minute=600, seed=11)
    generated = run_due_ticks(timezone.now() + timedelta(minutes=2))
    assert generated > 0
    main = Channel.objects.get(handle=content.CHANNELS[0][1])
    page = connector_for(main).fetch_inbound(None, limit=50)
    assert page.items, "the brand's main channel received nothing"
    languages = {item.language for item in page.items}
    assert languages & {"es", "en"}


def test_no_traffic_when_the_rate_is_zero():
    load_demo(rate_per_minute=0)
    assert run_due_ticks(timezone.now() + timedelta(minutes=2)) == 0


def test_demo_has_posts_at_every_stage_of_publishing(settings, tmp_path):
    from tertulia.publishing.models import DeliveryTarget, MediaAsset, Post, PostState, TargetState

    settings.MEDIA_ROOT = str(tmp_path)
    load_demo(rate_per_minute=0)
    brand = Brand.objects.get(name=content.MAIN_BRAND["name"])
    states = sorted(Post.objects.filter(brand=brand).values_list("state", flat=True))
    assert states == sorted(
        [
            PostState.IN_REVIEW,
            PostState.CHANGES_REQUESTED,
            PostState.SCHEDULED,
            PostState.SCHEDULED,  # the one going out now, until the worker sends it
            PostState.DRAFT,
        ]
    )
    assert MediaAsset.objects.filter(brand=brand).count() == 2
    assert MediaAsset.objects.filter(brand=brand, alt_text="").count() == 1  # the composer warns about it
    due_now = DeliveryTarget.objects.filter(brand=brand, due_at__lte=timezone.now())
    assert due_now.count() == 1 and due_now.get().state == TargetState.SCHEDULED
    load_demo(rate_per_minute=0)  # loading again adds nothing
    assert Post.objects.filter(brand=brand).count() == 5


def test_demo_listens_with_queries_in_every_group_and_a_month_of_history(settings, tmp_path):
    from tertulia.listening.models import ListeningQuery, Mention, QueryAlert, QueryMatch

    settings.MEDIA_ROOT = str(tmp_path)
    load_demo(rate_per_minute=0)
    brand = Brand.objects.get(name=content.MAIN_BRAND["name"])
    groups = set(ListeningQuery.objects.filter(brand=brand).values_list("group", flat=True))
    assert groups == {"brand", "competitor", "industry"}
    assert QueryAlert.objects.filter(query__brand=brand).count() == 1
    # Every query finds something in the month, so each chart has data to show.
    for query in ListeningQuery.objects.filter(brand=brand):
        assert QueryMatch.objects.filter(query=query).exists(), query.name
    stored = Mention.objects.filter(organization=brand.organization).count()
    load_demo(rate_per_minute=0)  # loading again adds nothing
    assert Mention.objects.filter(organization=brand.organization).count() == stored


def test_the_detector_learns_the_demo_traffic_for_brands_and_queries(settings, tmp_path):
    """Every watch of the demo brand starts with history at the level of the live traffic (for a query,
    scaled by the share of mentions it matches): a month of listening history is far quieter than the
    live stream, and would have made the demo's first minutes a surge on every query."""
    from tertulia.crisis.detection.run import detect_all
    from tertulia.crisis.models import Bucket, Surge, Watch, WatchKind
    from tertulia.listening.models import ListeningQuery, QueryMatch

    settings.MEDIA_ROOT = str(tmp_path)
    load_demo(rate_per_minute=12)
    brand = Brand.objects.get(name=content.MAIN_BRAND["name"])
    now = timezone.now()
    detect_all(now)
    detect_all(now + timedelta(seconds=20))
    assert not Surge.objects.filter(watch__kind=WatchKind.QUERY, detected_at__gte=now).exists()
    brand_watch = Watch.objects.get(brand=brand, kind=WatchKind.BRAND)
    for query in ListeningQuery.objects.filter(brand=brand, is_active=True):
        watch = Watch.objects.get(kind=WatchKind.QUERY, query=query)
        seeded = Bucket.objects.filter(watch=watch).count()
        # More minutes with traffic than the month of mentions could fill, fewer than the whole brand's.
        matched = QueryMatch.objects.filter(query=query).count()
        assert matched < seeded < Bucket.objects.filter(watch=brand_watch).count(), query.name
    buckets = Bucket.objects.count()
    load_demo(rate_per_minute=12)  # loading again seeds nothing twice
    assert Bucket.objects.count() == buckets
