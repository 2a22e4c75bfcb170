"""The minute job end to end on the database: history, a surge of angry messages, the Surge with its
explanation (hostile text kept verbatim), one open surge at a time, the alert, rehearsals."""

from __future__ import annotations

from datetime import timedelta

from tertulia.connectors.sandbox.models import SandboxCrisis
from tertulia.core.actions.context import Actor
from tertulia.core.actions.rehearsals import stage_rehearsal
from tertulia.crisis.detection.run import detect_all
from tertulia.crisis.models import Alert, Surge, Watch
from tertulia.crisis.tests.detect_support import (
    HOSTILE,
    NOW,
    Shop,
    brand_watch,
    seed_history,
    shop,
    usual_traffic,
    write,
)

__all__ = ["shop"]
M = timedelta(minutes=1)
NOW_MINUTE = NOW.replace(second=0)


def _surge_on(shop: Shop, days: int = 14) -> Watch:
    watch = brand_watch(shop.brand)
    seed_history(watch, NOW_MINUTE - 70 * M, days=days)
    usual_traffic(shop.channel, NOW_MINUTE - 70 * M, NOW_MINUTE - 3 * M)
    for minute in (3, 2, 1):
        write(shop.channel, NOW_MINUTE - minute * M, 14, negative=12, text=HOSTILE)
    write(
        shop.channel,
        NOW_MINUTE - M,
        1,
        negative=1,
        text="Intoxicación en el local de Sol",
        author="@periodista",
        followers=90_000,
    )
    return watch


def test_a_surge_is_found_explained_and_alerted_once(shop: Shop) -> None:
    watch = _surge_on(shop)
    done = detect_all(NOW)
    assert done.surges
    surges = {s.metric: s for s in Surge.objects.filter(watch=watch)}
    volume = surges["volume"]
    assert volume.ratio > 3 and volume.p_value < 1e-5 and volume.observed > volume.expected
    assert volume.window_minutes <= 5 and volume.started_at >= NOW_MINUTE - 5 * M
    assert volume.organization_id == shop.org.pk and not volume.is_rehearsal and volume.ended_at is None
    explanation = volume.explanation
    assert explanation["metric"] == "volume" and explanation["ratio"] > 3
    assert "intoxicación" in [t["term"] for t in explanation["top_terms"]]
    assert explanation["authors"][0]["handle"] == "@periodista"
    assert explanation["authors"][0]["followers"] == 90_000
    texts = [e["text"] for e in explanation["examples"]]
    assert HOSTILE in texts  # verbatim: escaped where shown, never cleaned here
    assert all(e["url"].startswith("https://sandbox.example/") for e in explanation["examples"])
    watch.refresh_from_db()
    assert watch.baseline["hours"] >= 14 * 24 - 2 and watch.evaluated_at == NOW
    assert Alert.objects.filter(surge__watch=watch).count() == 1  # raised with the surges, one per watch
    # The next minute: still the same surge, no second one.
    write(shop.channel, NOW_MINUTE, 14, negative=12, text=HOSTILE)
    assert detect_all(NOW + M).surges == []
    assert Surge.objects.filter(watch=watch, metric="volume").count() == 1


def test_a_surge_ends_when_traffic_is_back_within_the_baseline(shop: Shop) -> None:
    watch = _surge_on(shop)
    detect_all(NOW)
    usual_traffic(shop.channel, NOW_MINUTE, NOW_MINUTE + 20 * M, seed=4)
    for minute in range(1, 21):
        detect_all(NOW + minute * M)
    surge = Surge.objects.get(watch=watch, metric="volume")
    assert surge.ended_at is not None and surge.ended_at <= NOW + 20 * M
    assert Surge.objects.filter(watch=watch, metric="volume").count() == 1  # its tail raised no new one


def test_without_history_the_detector_keeps_learning(shop: Shop) -> None:
    for minute in (3, 2, 1):
        write(shop.channel, NOW_MINUTE - minute * M, 30, negative=25, text=HOSTILE)
    detect_all(NOW)
    assert not Surge.objects.exists()


def test_a_surge_during_a_staged_rehearsal_is_marked_as_practice(shop: Shop) -> None:
    staged = stage_rehearsal(Actor.system("tests"), shop.brand, topic="práctica", minutes=15)
    SandboxCrisis.objects.filter(pk=staged.pk).update(started_at=NOW - 4 * M, ends_at=NOW + 11 * M)
    watch = _surge_on(shop, days=3)
    detect_all(NOW)
    surges = Surge.objects.filter(watch=watch)
    assert surges and all(s.is_rehearsal for s in surges)


def test_a_rehearsal_on_a_brand_without_history_is_still_detected(shop: Shop) -> None:
    staged = stage_rehearsal(Actor.system("tests"), shop.brand, topic="práctica", minutes=15)
    SandboxCrisis.objects.filter(pk=staged.pk).update(started_at=NOW - 4 * M, ends_at=NOW + 11 * M)
    for minute in (3, 2, 1):
        write(shop.channel, NOW_MINUTE - minute * M, 20, negative=18, text="práctica de crisis")
    detect_all(NOW)
    surges = list(Surge.objects.filter(watch__brand=shop.brand))
    assert surges and all(s.is_rehearsal for s in surges)


def test_one_person_flooding_is_a_volume_surge_and_many_people_a_people_surge(shop: Shop) -> None:
    watch = brand_watch(shop.brand)
    seed_history(watch, NOW_MINUTE - 70 * M, days=14)
    usual_traffic(shop.channel, NOW_MINUTE - 70 * M, NOW_MINUTE - 3 * M)
    for minute in (2, 1):
        write(shop.channel, NOW_MINUTE - minute * M, 25, author="@una_sola_persona")
    detect_all(NOW)
    assert set(Surge.objects.filter(watch=watch).values_list("metric", flat=True)) == {"volume"}

    # Ten minutes later, the same number of messages from as many people.
    later = NOW + 10 * M
    usual_traffic(shop.channel, NOW_MINUTE - 3 * M, NOW_MINUTE + 8 * M, seed=4)
    for minute in (2, 1):
        write(shop.channel, NOW_MINUTE + 10 * M - minute * M, 25)
    detect_all(later)
    people = Surge.objects.get(watch=watch, metric="people")
    assert people.observed >= 40 and people.ratio > 5 and people.window_minutes <= 5
    assert people.explanation["metric"] == "people" and people.explanation["messages"] >= 50
    # One alert for the watch, its explanation brought up to date.
    assert Alert.objects.filter(brand=shop.brand).count() == 1


def test_a_surge_is_found_in_the_minute_under_way(shop: Shop) -> None:
    """The job runs every 20 s on what has arrived so far: twenty seconds into a surge is enough when it is
    large, without waiting for the minute to end."""
    watch = brand_watch(shop.brand)
    seed_history(watch, NOW_MINUTE - 70 * M, days=14)
    usual_traffic(shop.channel, NOW_MINUTE - 70 * M, NOW_MINUTE)
    write(shop.channel, NOW_MINUTE + timedelta(seconds=5), 30, negative=20)  # NOW is 20 s into the minute
    detect_all(NOW)
    surge = Surge.objects.filter(watch=watch).order_by("pk").first()
    assert surge is not None and surge.started_at == NOW_MINUTE and surge.window_minutes == 1
    # Its expectation is the part of the minute gone by (20 s: about 1 message at Wednesday 12:30's 3 a
    # minute), not the whole minute's (about 3, which would make the ratio about 10).
    assert surge.observed >= 30 and 0.5 < surge.expected < 1.5 and surge.ratio > 18
