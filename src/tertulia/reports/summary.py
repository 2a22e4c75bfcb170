"""The opening of a report: a few plain sentences on what changed and why it matters.

Written by rules from the figures, never by a model: each rule compares one figure of the period
with the period before and, when the change is large enough and its base is not tiny, says it in
one or two short sentences. The largest changes come first; at most `MAX_SENTENCES`. With nothing
measured, it says so rather than inventing a trend. Sentences are translated into the language
active when `summarize` runs (the recipient's: callers use `translation.override`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tertulia.analytics.objectives import Progress, Status
from tertulia.reports.models import Section

MAX_SENTENCES = 6
MIN_SENTENCES = 3
MIN_BASE = 10  # counts below this in the earlier period are too small to speak of a change in %
MIN_ANSWERS = 5  # first answers needed in both periods to compare response times
MIN_RELATIVE = 0.10  # a count or time must move at least 10 % to be told
MIN_POINTS = 2.0  # a percentage must move at least 2 points
OBJECTIVE_WEIGHT = 0.6  # objectives behind or missed rank like a 60 % change
PEAK_FACTOR = 2.0  # a day is a peak when it holds at least twice the daily average


@dataclass(frozen=True)
class Facts:
    """The figures of one period the summary speaks of (None: not measured)."""

    days: int
    posts_published: int = 0
    engagements: int = 0
    messages_in: int = 0
    answered: int = 0
    response_median: float | None = None  # minutes
    sla_met_percent: float | None = None
    mentions: int = 0  # of the brand (its Brand-group listening queries)
    negative: int = 0  # negative mentions, or negative inbox messages without listening
    negative_source: str = "mentions"  # "mentions" or "messages"
    negative_by_day: dict[date, int] = field(default_factory=dict)
    share_of_voice: float | None = None
    followers_start: int | None = None
    followers_end: int | None = None

    @property
    def has_data(self) -> bool:
        return bool(
            self.posts_published
            or self.engagements
            or self.messages_in
            or self.answered
            or self.mentions
            or self.negative
            or self.followers_end is not None
        )


@dataclass(frozen=True)
class Sentence:
    text: str
    weight: float  # how much it changed: the larger, the earlier


# ------------------------------------------------------------------ formatting


def number(value: float, decimals: int = 0) -> str:
    return formats.number_format(round(value, decimals), decimals, use_l10n=True, force_grouping=True)


def percent(value: float) -> str:
    decimals = 0 if abs(value - round(value)) < 0.05 or abs(value) >= 10 else 1
    return f"{number(value, decimals)}\u00a0%"


def duration(minutes: float) -> str:
    whole = round(minutes)
    if whole < 60:
        return ngettext("%(n)s minute", "%(n)s minutes", whole) % {"n": number(whole)}
    hours, rest = divmod(whole, 60)
    if not rest:
        return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": number(hours)}
    return _("%(h)s h %(m)s min") % {"h": number(hours), "m": number(rest)}


def before(days: int) -> str:
    """How the period before is called in a comparison ("than the week before")."""
    if days == 7:
        return _("the week before")
    if 28 <= days <= 31:
        return _("the month before")
    return ngettext("the day before", "the %(n)s days before", days) % {"n": number(days)}


def weekday_name(day: date, days: int) -> str:
    """ "Tuesday" within a week; "Tuesday 14" in a longer period, where the weekday repeats."""
    return formats.date_format(day, "l" if days <= 7 else "l j")


def relative(now: float, then: float) -> float:
    return (now - then) / then if then else 0.0


# ------------------------------------------------------------------ rules


def response_time(now: Facts, then: Facts) -> Sentence | None:
    a, b = now.response_median, then.response_median
    if a is None or b is None or now.answered < MIN_ANSWERS or then.answered < MIN_ANSWERS or not b:
        return None
    change = relative(a, b)
    if abs(change) < MIN_RELATIVE or abs(a - b) < 1:
        return None
    values = {"now": duration(a), "diff": duration(abs(a - b)), "before": before(now.days)}
    if a < b:
        text = _(
            "Response time improved: the median first answer took %(now)s, %(diff)s less than "
            "%(before)s. Customers waited less."
        )
    else:
        text = _(
            "Response time got worse: the median first answer took %(now)s, %(diff)s more than "
            "%(before)s. Customers waited longer."
        )
    return Sentence(text % values, abs(change))


def sla(now: Facts, then: Facts) -> Sentence | None:
    a, b = now.sla_met_percent, then.sla_met_percent
    if a is None or b is None or abs(a - b) < MIN_POINTS:
        return None
    values = {"then": percent(b), "now": percent(a)}
    if a > b:
        text = _(
            "Answers on time rose from %(then)s to %(now)s: fewer customers waited past the promised time."
        )
    else:
        text = _(
            "Answers on time fell from %(then)s to %(now)s: more customers waited past the promised time."
        )
    return Sentence(text % values, abs(a - b) / max(b, 1.0))


def count_change(now: int, then: int) -> float | None:
    """The relative change of a count, or None when it is too small to speak of."""
    if then < MIN_BASE:
        return None
    change = relative(now, then)
    return change if abs(change) >= MIN_RELATIVE else None


def peak_day(by_day: dict[date, int], days: int) -> date | None:
    total = sum(by_day.values())
    if not total or days < 2:
        return None
    day, most = max(sorted(by_day.items()), key=lambda item: item[1])
    return day if most >= PEAK_FACTOR * total / days else None


def negative(now: Facts, then: Facts) -> Sentence | None:
    change = count_change(now.negative, then.negative)
    if change is None:
        return None
    values = {
        "change": percent(abs(change) * 100),
        "now": number(now.negative),
        "then": number(then.negative),
    }
    mentions = now.negative_source == "mentions"
    if change > 0:
        text = (
            _("Negative mentions rose %(change)s (%(now)s against %(then)s)")
            if mentions
            else _("Negative messages rose %(change)s (%(now)s against %(then)s)")
        ) % values
        peak = peak_day(now.negative_by_day, now.days)
        if peak is not None:
            text += _("; most came on %(day)s.") % {"day": weekday_name(peak, now.days)}
        else:
            text += "."
        text += " " + _("Worth reading what upset people.")
    else:
        text = (
            _("Negative mentions fell %(change)s (%(now)s against %(then)s): less criticism of the brand.")
            if mentions
            else _(
                "Negative messages fell %(change)s (%(now)s against %(then)s): fewer unhappy customers wrote."
            )
        ) % values
    return Sentence(text, abs(change))


def share_of_voice(now: Facts, then: Facts) -> Sentence | None:
    a, b = now.share_of_voice, then.share_of_voice
    if a is None or b is None or abs(a - b) < MIN_POINTS:
        return None
    values = {"then": percent(b), "now": percent(a)}
    if a < b:
        text = _("Share of voice fell from %(then)s to %(now)s: competitors were talked about more.")
    else:
        text = _(
            "Share of voice rose from %(then)s to %(now)s:"
            " the brand was talked about more than its competitors."
        )
    return Sentence(text % values, abs(a - b) / max(b, 1.0))


def inbox_volume(now: Facts, then: Facts) -> Sentence | None:
    change = count_change(now.messages_in, then.messages_in)
    if change is None:
        return None
    values = {
        "change": percent(abs(change) * 100),
        "now": number(now.messages_in),
        "then": number(then.messages_in),
    }
    if change > 0:
        text = _("Messages received rose %(change)s (%(now)s against %(then)s): the team had more to answer.")
    else:
        text = _("Messages received fell %(change)s (%(now)s against %(then)s): a quieter inbox.")
    return Sentence(text % values, abs(change))


def engagement(now: Facts, then: Facts) -> Sentence | None:
    change = count_change(now.engagements, then.engagements)
    if change is None:
        return None
    values = {
        "change": percent(abs(change) * 100),
        "now": number(now.engagements),
        "then": number(then.engagements),
    }
    if change > 0:
        text = _(
            "Interactions with the posts rose %(change)s (%(now)s against %(then)s):"
            " the content found more response."
        )
    else:
        text = _(
            "Interactions with the posts fell %(change)s (%(now)s against %(then)s):"
            " the content found less response."
        )
    return Sentence(text % values, abs(change))


def publishing(now: Facts, then: Facts) -> Sentence | None:
    change = count_change(now.posts_published, then.posts_published)
    if change is None:
        return None
    values = {"now": number(now.posts_published), "then": number(then.posts_published)}
    if change > 0:
        text = _("More posts went out: %(now)s against %(then)s.")
    else:
        text = _("Fewer posts went out: %(now)s against %(then)s.")
    return Sentence(text % values, abs(change) * 0.8)  # what we did ranks below how people reacted


def audience(now: Facts, then: Facts) -> Sentence | None:
    start, end = now.followers_start, now.followers_end
    if start is None or end is None or start < MIN_BASE * 10 or start == end:
        return None
    change = relative(end, start)
    values = {"n": number(abs(end - start)), "change": percent(abs(change) * 100)}
    if end > start:
        text = ngettext(
            "The audience grew by %(n)s follower (%(change)s).",
            "The audience grew by %(n)s followers (%(change)s).",
            end - start,
        )
    else:
        text = ngettext(
            "The audience shrank by %(n)s follower (%(change)s).",
            "The audience shrank by %(n)s followers (%(change)s).",
            start - end,
        )
    # Audiences move slowly: a 1 % change in a week is as telling as a 10 % change in messages.
    return Sentence(text % values, abs(change) * 10)


def objectives(progress: Sequence[Progress]) -> list[Sentence]:
    bad = [p for p in progress if p.status in (Status.BEHIND, Status.MISSED)]
    good = [p for p in progress if p.status == Status.MET]
    said = []
    if bad:
        names = ", ".join(f"“{p.objective.title}”" for p in bad[:3])
        text = ngettext(
            "%(n)s objective is behind or missed: %(names)s.",
            "%(n)s objectives are behind or missed: %(names)s.",
            len(bad),
        ) % {"n": number(len(bad)), "names": names}
        said.append(Sentence(text, OBJECTIVE_WEIGHT))
    if good:
        names = ", ".join(f"“{p.objective.title}”" for p in good[:3])
        text = ngettext("%(n)s objective met: %(names)s.", "%(n)s objectives met: %(names)s.", len(good)) % {
            "n": number(len(good)),
            "names": names,
        }
        said.append(Sentence(text, OBJECTIVE_WEIGHT / 2))
    return said


Rule = Callable[[Facts, Facts], Sentence | None]
RULES: dict[str, tuple[Rule, ...]] = {
    Section.INBOX: (response_time, sla, inbox_volume),
    Section.LISTENING: (negative, share_of_voice),
    Section.PUBLISHING: (engagement, publishing),
    Section.AUDIENCE: (audience,),
}


def steady(now: Facts, sections: Iterable[str]) -> list[Sentence]:
    """Level facts for a quiet period, so the opening still says something true."""
    wanted = set(sections)
    said = []
    if Section.INBOX in wanted and now.messages_in:
        text = ngettext("%(n)s message came in.", "%(n)s messages came in.", now.messages_in) % {
            "n": number(now.messages_in)
        }
        if now.response_median is not None and now.answered:
            text += " " + _("The median first answer took %(time)s.") % {
                "time": duration(now.response_median)
            }
        said.append(Sentence(text, 0))
    if Section.PUBLISHING in wanted and now.posts_published:
        said.append(
            Sentence(
                ngettext(
                    "%(n)s post went out, with %(e)s interactions.",
                    "%(n)s posts went out, with %(e)s interactions.",
                    now.posts_published,
                )
                % {"n": number(now.posts_published), "e": number(now.engagements)},
                0,
            )
        )
    if Section.LISTENING in wanted and now.mentions:
        said.append(
            Sentence(
                ngettext(
                    "The brand was mentioned %(n)s time.",
                    "The brand was mentioned %(n)s times.",
                    now.mentions,
                )
                % {"n": number(now.mentions)},
                0,
            )
        )
    return said


def summarize(
    now: Facts, then: Facts, sections: Iterable[str], progress: Sequence[Progress] = ()
) -> list[str]:
    """3 to 6 sentences (fewer only when there is little to say), the largest changes first."""
    wanted = [s for s in sections if s in {*RULES, Section.OBJECTIVES}]
    found: list[Sentence] = []
    for section in wanted:
        for rule in RULES.get(section, ()):
            sentence = rule(now, then)
            if sentence is not None:
                found.append(sentence)
    if Section.OBJECTIVES in wanted:
        found.extend(objectives(progress))
    found.sort(key=lambda s: -s.weight)  # stable: equal weights keep the sections' order
    said = [s.text for s in found[:MAX_SENTENCES]]
    if not now.has_data:
        opening = _("Not enough data for this period yet: nothing was published, received or mentioned.")
        return [opening, *said][:MAX_SENTENCES]
    if not found and not then.has_data:
        said.append(_("There is no earlier period to compare with yet."))
    elif not found:
        said.append(_("No big changes compared with %(before)s.") % {"before": before(now.days)})
    for sentence in steady(now, wanted):
        if len(said) >= MIN_SENTENCES:
            break
        said.append(sentence.text)
    return said[:MAX_SENTENCES]
