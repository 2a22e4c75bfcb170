"""Insight from stored matches (volume, sentiment, voice, authors, rising terms); alerts; backtests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Role, User
from tertulia.core.tests.factories import make_brand, make_member, make_org
from tertulia.inbox.models import Notification
from tertulia.listening import insight
from tertulia.listening.actions.alerts import create_alert
from tertulia.listening.actions.common import ListeningRefused
from tertulia.listening.actions.queries import create_query
from tertulia.listening.alerts import check_alerts
from tertulia.listening.backtest import backfill, run_backtest
from tertulia.listening.ingest import Item, ingest
from tertulia.listening.models import AlertEvent, QueryMatch
from tertulia.listening.query import parse

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def post(remote_id: str, text: str, hours_ago: float = 1, **extra: object) -> Item:
    return Item(
        network="bluesky",
        remote_id=remote_id,
        text=text,
        published_at=NOW - timedelta(hours=hours_ago),
        **extra,  # type: ignore[arg-type]  # a test passes a deliberately loose value
    )


@pytest.fixture
def actor(analyst: User) -> Actor:
    return Actor(user=analyst, via="web")


def test_volume_fills_empty_hours_and_days_in_the_brand_zone(brand: Brand, actor: Actor):
    query = create_query(actor, brand, name="Vino", text="vino")
    ingest(
        [post("1", "vino", 0.5), post("2", "vino", 0.7), post("3", "vino", 30)],
        organization_id=brand.organization_id,
    )
    hourly = insight.volume([query.pk], insight.Period(NOW - timedelta(hours=3), NOW), "Europe/Madrid")
    assert [count for _, count in hourly] == [0, 0, 2]
    assert hourly[0][0] == datetime(2026, 11, 20, 10, 0)  # 09:00 UTC is 10:00 in Madrid
    daily = insight.volume([query.pk], insight.Period(NOW - timedelta(days=5), NOW), "Europe/Madrid")
    assert sum(count for _, count in daily) == 3 and len(daily) == 6


def test_sentiment_share_and_share_of_voice(brand: Brand, actor: Actor):
    ours = create_query(actor, brand, name="Nosotros", text="bodega")
    rival = create_query(actor, brand, name="Rival", text="rival", group="competitor")
    create_query(actor, brand, name="Sector", text="vino", group="industry")
    ingest(
        [
            post("1", "Me encanta la bodega, gracias!"),
            post("2", "La bodega es un desastre, nunca más"),
            post("3", "rival"),
            post("4", "bodega"),
            post("5", "vino"),
        ],
        organization_id=brand.organization_id,
    )
    period = insight.Period(NOW - timedelta(days=1), NOW)
    share = insight.sentiment_share([ours.pk], period)
    assert share["positive"] >= 1 and share["negative"] >= 1 and sum(share.values()) == 3
    voices = insight.share_of_voice(brand, period)
    assert [(voice.query.name, voice.mentions, round(voice.share, 2)) for voice in voices] == [
        ("Nosotros", 3, 0.75),
        ("Rival", 1, 0.25),
    ]
    assert rival.pk in {voice.query.pk for voice in voices}


def test_top_authors_by_reach(brand: Brand, actor: Actor):
    query = create_query(actor, brand, name="Vino", text="vino")
    ingest(
        [
            post("1", "vino", author_handle="small", author_followers=10),
            post("2", "vino", author_handle="big", author_followers=90_000),
            post("3", "vino otra vez", author_handle="big", author_followers=90_500),
            post("4", "vino", author_handle=""),
            post("5", "vino", author_handle="unknown", author_followers=None),
        ],
        organization_id=brand.organization_id,
    )
    authors = insight.top_authors([query.pk], insight.Period(NOW - timedelta(days=1), NOW))
    assert [(author.handle, author.followers, author.mentions) for author in authors] == [
        ("big", 90_500, 2),
        ("small", 10, 1),
        ("unknown", None, 1),  # an unknown reach last, on PostgreSQL too
    ]


def test_rising_terms_compare_two_windows(brand: Brand, actor: Actor):
    query = create_query(actor, brand, name="Vino", text="vino")
    before = [post(f"b{n}", "vino tinto crianza", 24 * 3) for n in range(4)]
    now = [post(f"n{n}", "vino tinto intoxicación hospital", 2) for n in range(6)]
    ingest(before + now, organization_id=brand.organization_id)
    terms = insight.rising_terms([query.pk], NOW, timedelta(days=2))
    texts = [term.text for term in terms]
    assert texts[:2] == ["hospital", "intoxicacion"]
    assert "vino" not in texts  # the query's own word
    assert "crianza" not in texts  # fell, did not rise
    tinto = next(term for term in terms if term.text == "tinto")
    assert (tinto.recent, tinto.before) == (6, 4)


def test_volume_alert_fires_once_per_window_and_only_to_members(brand: Brand, actor: Actor, analyst: User):
    query = create_query(actor, brand, name="Vino", text="vino")
    stranger = make_member(make_org("Otra"), Role.ANALYST)
    with pytest.raises(ListeningRefused):
        create_alert(actor, query, kind="volume", threshold=2, recipients=[stranger])
    alert = create_alert(actor, query, kind="volume", threshold=2, recipients=[analyst], window_minutes=60)
    ingest([post(str(n), "vino", 0.1) for n in range(3)], organization_id=brand.organization_id)
    assert check_alerts([query.pk], now=NOW) != []
    assert check_alerts([query.pk], now=NOW + timedelta(minutes=10)) == []  # same window: once
    event = AlertEvent.objects.get(alert=alert)
    assert (event.mentions, event.value) == (3, 3.0)
    note = Notification.objects.get(user=analyst, kind="listening_alert")
    assert "Vino" in note.text and note.url == f"/listen/queries/{query.pk}/"


def test_negative_share_alert_needs_enough_mentions(brand: Brand, actor: Actor, analyst: User):
    query = create_query(actor, brand, name="Vino", text="vino")
    create_alert(actor, query, kind="negative_share", threshold=50, minimum_mentions=4, recipients=[analyst])
    bad = "Este vino es un desastre, nunca más, qué asco"
    ingest([post(str(n), bad, 0.1) for n in range(3)], organization_id=brand.organization_id)
    assert check_alerts([query.pk], now=NOW) == []  # 3 < 4 mentions
    ingest([post("4", bad, 0.1)], organization_id=brand.organization_id)
    assert len(check_alerts([query.pk], now=NOW)) == 1


def test_alert_settings_are_validated(brand: Brand, actor: Actor, analyst: User):
    query = create_query(actor, brand, name="Vino", text="vino")
    for kind, threshold, window in [("volume", 5, 1), ("negative_share", 150, 60), ("nonsense", 5, 60)]:
        with pytest.raises(ListeningRefused):
            create_alert(
                actor, query, kind=kind, threshold=threshold, window_minutes=window, recipients=[analyst]
            )


def test_backtest_and_backfill_over_history(brand: Brand, actor: Actor):
    create_query(actor, brand, name="Todo", text="vino OR cerveza")
    ingest(
        [post("1", "vino tinto", 5), post("2", "cerveza rubia", 30), post("3", "vino blanco", 24 * 40)],
        organization_id=brand.organization_id,
    )
    other = make_brand(make_org("Otra SA"))
    create_query(Actor.system(), other, name="Vino", text="vino")
    ingest([post("9", "vino de otra organización", 5)], organization_id=other.organization_id)

    result = run_backtest(parse("vino"), brand.organization_id, NOW - timedelta(days=30))
    assert (result.checked, result.matched) == (2, 1)  # 30 days back; never another organization's
    assert [item.remote_id for item in result.sample] == ["1"]

    red = create_query(actor, brand, name="Tinto", text="tinto OR blanco")
    added = backfill(actor, red, parse(red.text), NOW - timedelta(days=60))
    assert added == 2
    assert set(QueryMatch.objects.filter(query=red).values_list("backfilled", flat=True)) == {True}
    assert backfill(actor, red, parse(red.text), NOW - timedelta(days=60)) == 0  # nothing twice
