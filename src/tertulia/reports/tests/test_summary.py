"""The plain-language opening: each rule, ordering, no data, Spanish."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from django.utils import translation

from tertulia.analytics.objectives import Status
from tertulia.reports import summary
from tertulia.reports.summary import Facts, summarize

ALL = ["publishing", "inbox", "listening", "audience", "objectives"]


def week(**values: Any) -> Facts:
    return Facts(days=7, **values)


def test_response_time_improved_says_how_much_and_why() -> None:
    now = week(answered=40, response_median=12.0, messages_in=40)
    then = week(answered=40, response_median=20.0, messages_in=40)
    said = summarize(now, then, ["inbox"])
    assert said[0] == (
        "Response time improved: the median first answer took 12 minutes, 8 minutes less than the week "
        "before. Customers waited less."
    )


def test_response_time_worse_and_tiny_bases_ignored() -> None:
    worse = summary.response_time(
        week(answered=40, response_median=90.0), week(answered=40, response_median=60.0)
    )
    assert worse is not None and "got worse" in worse.text and "1 h 30 min" in worse.text
    # Too few answers in the earlier period: no comparison.
    assert (
        summary.response_time(week(answered=40, response_median=5.0), week(answered=2, response_median=60.0))
        is None
    )
    # A small move is not news.
    assert (
        summary.response_time(
            week(answered=40, response_median=19.0), week(answered=40, response_median=20.0)
        )
        is None
    )


def test_negative_mentions_rose_with_the_peak_day() -> None:
    by_day = {date(2026, 11, 10): 80, date(2026, 11, 11): 10, date(2026, 11, 12): 30}  # a Tuesday
    sentence = summary.negative(week(negative=120, negative_by_day=by_day, mentions=300), week(negative=86))
    assert sentence is not None
    assert sentence.text.startswith(
        "Negative mentions rose 40\u00a0% (120 against 86); most came on Tuesday."
    )
    assert round(sentence.weight, 2) == 0.40


def test_negative_fell_and_inbox_source() -> None:
    fell = summary.negative(
        week(negative=50, negative_source="messages"), week(negative=100, negative_source="messages")
    )
    assert fell is not None and fell.text.startswith("Negative messages fell 50\u00a0% (50 against 100)")
    assert summary.negative(week(negative=9), week(negative=3)) is None  # tiny base


def test_share_of_voice_fell() -> None:
    sentence = summary.share_of_voice(week(share_of_voice=29.0), week(share_of_voice=34.0))
    assert sentence is not None
    assert (
        sentence.text
        == "Share of voice fell from 34\u00a0% to 29\u00a0%: competitors were talked about more."
    )
    assert summary.share_of_voice(week(share_of_voice=34.5), week(share_of_voice=34.0)) is None


def test_sla_inbox_engagement_publishing_audience_rules() -> None:
    sla = summary.sla(week(sla_met_percent=91.0), week(sla_met_percent=82.0))
    assert sla is not None and sla.text.startswith("Answers on time rose from 82\u00a0% to 91\u00a0%")
    inbox = summary.inbox_volume(week(messages_in=300), week(messages_in=200))
    assert inbox is not None and "rose 50\u00a0% (300 against 200)" in inbox.text
    engaged = summary.engagement(week(engagements=800), week(engagements=1000))
    assert engaged is not None and engaged.text.startswith("Interactions with the posts fell 20\u00a0%")
    posts = summary.publishing(week(posts_published=20), week(posts_published=10))
    assert posts is not None and posts.text == "More posts went out: 20 against 10."
    grew = summary.audience(week(followers_start=10000, followers_end=10200), week())
    assert grew is not None and grew.text == "The audience grew by 200 followers (2\u00a0%)."


def test_biggest_changes_come_first_and_at_most_six() -> None:
    now = week(
        messages_in=300,
        answered=100,
        response_median=10.0,
        sla_met_percent=90.0,
        negative=200,
        share_of_voice=20.0,
        engagements=1100,
        posts_published=30,
        followers_start=1000,
        followers_end=1005,
        mentions=500,
    )
    then = week(
        messages_in=200,
        answered=100,
        response_median=11.5,
        sla_met_percent=80.0,
        negative=100,
        share_of_voice=50.0,
        engagements=1000,
        posts_published=20,
        mentions=400,
    )
    said = summarize(now, then, ALL)
    assert len(said) == summary.MAX_SENTENCES
    assert said[0].startswith("Negative mentions rose 100")  # +100 %
    assert said[1].startswith("Share of voice fell from 50")  # -60 %
    assert said[2].startswith("Messages received rose 50")  # +50 %
    assert not any(s.startswith("The audience") for s in said)  # +0.5 %: below the others


def test_sections_not_chosen_are_not_spoken_of() -> None:
    now, then = week(messages_in=300, negative=200), week(messages_in=100, negative=100)
    said = summarize(now, then, ["listening"])
    assert any("Negative" in s for s in said) and not any("Messages received" in s for s in said)


def test_no_data_is_said_honestly() -> None:
    said = summarize(week(), week(), ALL)
    assert said == ["Not enough data for this period yet: nothing was published, received or mentioned."]


def test_quiet_period_still_says_something_true() -> None:
    now = week(messages_in=50, answered=50, response_median=14.0, posts_published=5, engagements=40)
    said = summarize(now, now, ALL)
    assert said[0] == "No big changes compared with the week before."
    assert "50 messages came in. The median first answer took 14 minutes." in said
    assert len(said) == 3
    first = summarize(now, week(), ALL)
    assert first[0] == "There is no earlier period to compare with yet."


def test_objectives_behind_and_met() -> None:
    def made(title: str, status: Status) -> Any:
        return SimpleNamespace(objective=SimpleNamespace(title=title), status=status)

    found = [made("Answer <fast>", Status.BEHIND), made("Grow", Status.MET), made("Post", Status.ON_TRACK)]
    said = summarize(week(messages_in=20), week(messages_in=20), ["objectives"], found)
    assert said[0] == "1 objective is behind or missed: “Answer <fast>”."
    assert said[1] == "1 objective met: “Grow”."


def test_spanish_numbers_and_durations() -> None:
    with translation.override("es"):
        response = summary.response_time(
            week(answered=40, response_median=12.0), week(answered=40, response_median=20.0)
        )
        big = summary.number(1234.5, 1)
    assert response is not None and "12 minutos" in response.text and "8 minutos" in response.text
    assert big == "1\u00a0234,5"  # Django's Spanish grouping


def test_spanish_sentences() -> None:
    opening = "Not enough data for this period yet: nothing was published, received or mentioned."
    with translation.override("es"):
        assert translation.gettext(opening) != opening  # the catalogue has the summary's sentences
        sov = summary.share_of_voice(week(share_of_voice=29.0), week(share_of_voice=34.0))
        none = summarize(week(), week(), ALL)
    assert sov is not None
    assert sov.text == "La cuota de voz bajó del 34\u00a0% al 29\u00a0%: se habló más de la competencia."
    assert none == [
        "Aún no hay datos suficientes para este periodo: no se publicó, recibió ni mencionó nada."
    ]
