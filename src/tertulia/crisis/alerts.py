"""Crisis alerts: raised by a surge the detector found (or by a person), told to a brand's escalation
chain until someone acknowledges, then resolved (docs/crisis-alerts.md).

- `raise_for_surge(surge)`: the detector calls it for every surge. A watch has at most one alert that
  is not resolved: a surge that goes on (or a new one on the same watch) updates that alert's
  explanation instead of raising another, so nobody is woken twice for one story.
- `raise_alert(actor, brand, title, summary)`: anyone who works in the brand may raise the alarm.
- `acknowledge(actor, alert)`: "I am on it" stops the escalation; `resolve(actor, alert)` closes it.

Who may see, acknowledge and resolve an alert: the people who work in its brand (Perm.VIEW there).
Telling people is tertulia.crisis.escalation's work: a new alert is due at once, and each worker's
escalation job (or the commit of the raising transaction) claims it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Organization, User
from tertulia.core.permissions import Perm, has_perm, restrict
from tertulia.crisis.models import Alert, AlertState, Metric, Surge, Watch, WatchKind

logger = logging.getLogger(__name__)

MAX_TITLE = 300
MAX_SUMMARY = 20_000
# Alerts that still need someone (a watch has at most one of them).
UNRESOLVED = (AlertState.OPEN, AlertState.ACKNOWLEDGED)
# A surge on a watch whose alert was acknowledged this recently is the same story (the team is on it);
# later than this, an acknowledged alert nobody resolved must not silence the watch: a new alert is raised.
FOLLOW_ACKNOWLEDGED = timedelta(hours=6)
# How much of the detector's explanation is shown and sent.
MAX_TERMS = 8
MAX_AUTHORS = 5
MAX_EXAMPLES = 3
MAX_EXAMPLE_TEXT = 280


class AlertRefused(ValueError):
    """The alert action cannot be done as asked; the message says why, in the person's language."""


class NotPermitted(AlertRefused):
    """The person does not work in the alert's brand (or is not a person at all)."""


class AlreadyDone(AlertRefused):
    """Someone acknowledged or resolved the alert a moment ago."""


# --- who may -------------------------------------------------------------------------------------


def may_see(user: User | None, alert: Alert) -> bool:
    """People who work in the alert's brand see it, acknowledge it and resolve it."""
    return user is not None and has_perm(user, alert.organization, Perm.VIEW, alert.brand)


may_acknowledge = may_see


def visible_alerts(user: User, organization: Organization) -> QuerySet[Alert]:
    """The organization's alerts in the brands `user` works in (nothing of another organization)."""
    return restrict(Alert.objects.all(), user, organization, Perm.VIEW).select_related("brand")


def alert_path(alert: Alert) -> str:
    return reverse("web:crisis-alert", args=[alert.pk])


# --- the explanation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Author:
    name: str
    followers: int | None = None


@dataclass(frozen=True)
class Example:
    text: str
    author: str = ""


@dataclass(frozen=True)
class Explanation:
    """What rose, by how much against what was expected, and what explains it: in the current language,
    with people's texts verbatim (escape them where they are shown)."""

    title: str
    what: str
    since: str
    terms: list[str] = field(default_factory=list)
    authors: list[Author] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)

    def as_text(self) -> str:
        """The plain-text summary (e-mails, the stored summary)."""
        lines = [self.what, self.since]
        if self.terms:
            lines.append(_("Top terms: %(terms)s") % {"terms": ", ".join(self.terms)})
        if self.authors:
            lines.append(_("Most influential authors: %(authors)s") % {"authors": author_list(self.authors)})
        if self.examples:
            lines.append(_("Examples:"))
            lines.extend(
                f"- “{example.text}”" + (f" ({example.author})" if example.author else "")
                for example in self.examples
            )
        return "\n".join(lines)

    def one_line(self) -> str:
        """For chat tools: what rose, then the top terms."""
        text = self.what
        if self.terms:
            text += " " + _("Top terms: %(terms)s.") % {"terms": ", ".join(self.terms[:5])}
        return text


def author_list(authors: Sequence[Author]) -> str:
    parts = []
    for author in authors:
        if author.followers is None:
            parts.append(author.name)
        else:
            parts.append(
                ngettext("%(name)s (%(count)s follower)", "%(name)s (%(count)s followers)", author.followers)
                % {"name": author.name, "count": f"{author.followers:,}"}
            )
    return ", ".join(parts)


def _text(value: Any, limit: int) -> str:
    text = " ".join(str(value).split()) if value is not None else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _terms(raw: Any) -> list[str]:
    """["refund", ...], [["refund", 12], ...] or [{"term": "refund", "count": 12}, ...]."""
    found = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, Mapping):
            item = item.get("term") or item.get("text") or ""
        elif isinstance(item, list | tuple):
            item = item[0] if item else ""
        term = _text(item, 60)
        if term:
            found.append(term)
    return found[:MAX_TERMS]


def _authors(raw: Any) -> list[Author]:
    """["@ana", ...] or [{"handle"/"name": ..., "followers": 1200}, ...]."""
    found = []
    for item in raw if isinstance(raw, list) else []:
        followers: int | None = None
        if isinstance(item, Mapping):
            name = item.get("handle") or item.get("name") or item.get("author") or ""
            try:
                followers = int(item["followers"]) if item.get("followers") is not None else None
            except (TypeError, ValueError):
                followers = None
        else:
            name = item
        name = _text(name, 100)
        if name:
            found.append(Author(name, followers))
    return found[:MAX_AUTHORS]


def _examples(raw: Any) -> list[Example]:
    """["text", ...] or [{"text": ..., "author"/"handle": ...}, ...]."""
    found = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, Mapping):
            text = _text(item.get("text"), MAX_EXAMPLE_TEXT)
            author = _text(item.get("author") or item.get("handle") or "", 100)
        else:
            text, author = _text(item, MAX_EXAMPLE_TEXT), ""
        if text:
            found.append(Example(text, author))
    return found[:MAX_EXAMPLES]


def _watched(watch: Watch, brand: Brand) -> str:
    if watch.kind == WatchKind.QUERY and watch.query is not None:
        return _("mentions found by the listening query “%(query)s” (%(brand)s)") % {
            "query": watch.query.name,
            "brand": brand.name,
        }
    return _("messages to %(brand)s's channels") % {"brand": brand.name}


def finite(value: float) -> float | None:
    """A number fit for JSON (the audit trail, webhooks, the API): None for infinity or NaN."""
    return round(value, 4) if math.isfinite(value) else None


def _ratio(surge: Surge) -> str:
    return f"{surge.ratio:.1f}" if math.isfinite(surge.ratio) and surge.expected > 0 else "∞"


def explain(surge: Surge) -> Explanation:
    """The surge told in words, in the current language."""
    brand = surge.brand
    share = surge.metric == Metric.NEGATIVE
    numbers = {
        "brand": brand.name,
        "watched": _watched(surge.watch, brand),
        "observed": f"{surge.observed:.0%}" if share else f"{surge.observed:.0f}",
        "expected": f"{surge.expected:.0%}" if share else f"{surge.expected:.1f}",
        "minutes": surge.window_minutes,
        "ratio": _ratio(surge),
    }
    if share:
        title = _("%(brand)s: negative share at %(observed)s, expected %(expected)s") % numbers
        what = (
            ngettext(
                "Negative share of %(watched)s: %(observed)s in the last minute, against %(expected)s "
                "expected at this time (%(ratio)s times).",
                "Negative share of %(watched)s: %(observed)s in the last %(minutes)d minutes, against "
                "%(expected)s expected at this time (%(ratio)s times).",
                surge.window_minutes,
            )
            % numbers
        )
    elif surge.metric == Metric.PEOPLE:
        title = _("%(brand)s: %(ratio)s times as many people writing as expected") % numbers
        what = (
            ngettext(
                "%(observed)s different people wrote %(watched)s in the last minute, against %(expected)s "
                "expected at this time (%(ratio)s times as many).",
                "%(observed)s people wrote %(watched)s in the last %(minutes)d minutes (counted minute by "
                "minute), against %(expected)s expected at this time (%(ratio)s times as many).",
                surge.window_minutes,
            )
            % numbers
        )
    else:
        title = _("%(brand)s: %(ratio)s times the expected volume") % numbers
        what = (
            ngettext(
                "%(observed)s %(watched)s in the last minute, against %(expected)s expected at this time "
                "(%(ratio)s times as many).",
                "%(observed)s %(watched)s in the last %(minutes)d minutes, against %(expected)s expected at "
                "this time (%(ratio)s times as many).",
                surge.window_minutes,
            )
            % numbers
        )
    since = _("It started at %(start)s UTC; found at %(found)s UTC.") % {
        "start": f"{surge.started_at:%Y-%m-%d %H:%M}",
        "found": f"{surge.detected_at:%H:%M}",
    }
    raw = surge.explanation if isinstance(surge.explanation, Mapping) else {}
    if surge.is_rehearsal:
        title = _("[Rehearsal] %(title)s") % {"title": title}
    return Explanation(
        title=title[:MAX_TITLE],
        what=what,
        since=since,
        terms=_terms(raw.get("top_terms")),
        authors=_authors(raw.get("authors")),
        examples=_examples(raw.get("examples")),
    )


def explanation_of(alert: Alert) -> Explanation | None:
    """The alert's surge told in the current language (None for an alert raised by hand)."""
    return explain(alert.surge) if alert.surge is not None else None


# --- raising -------------------------------------------------------------------------------------


def raise_for_surge(surge: Surge) -> Alert:
    """The watch's alert for `surge`: a new one (due to be told at once), or the one not resolved yet,
    its explanation brought up to date (nobody is told again for it)."""
    with transaction.atomic():
        # One at a time per watch: two workers finding surges on one watch raise one alert.
        Watch.objects.select_for_update().filter(pk=surge.watch_id).first()
        now = timezone.now()
        existing = (
            Alert.objects.select_for_update()
            .filter(surge__watch_id=surge.watch_id)
            .filter(
                Q(state=AlertState.OPEN)
                | Q(state=AlertState.ACKNOWLEDGED, acknowledged_at__gte=now - FOLLOW_ACKNOWLEDGED)
            )
            .order_by("-raised_at", "-id")
            .first()
        )
        explanation = explain(surge)
        if existing is not None:
            existing.surge = surge
            existing.title = explanation.title
            existing.summary = explanation.as_text()[:MAX_SUMMARY]
            existing.save(update_fields=["surge", "title", "summary"])
            record(
                Actor.system("crisis detector"),
                existing.organization,
                "crisis.alert.updated",
                existing,
                {"surge": [None, surge.pk], "ratio": [None, finite(surge.ratio)]},
            )
            return existing
        alert = Alert.objects.create(
            organization_id=surge.organization_id,
            brand_id=surge.brand_id,
            surge=surge,
            title=explanation.title,
            summary=explanation.as_text()[:MAX_SUMMARY],
            raised_at=now,
            next_escalation_at=now,
            is_rehearsal=surge.is_rehearsal,
        )
        record(
            Actor.system("crisis detector"),
            alert.organization,
            "crisis.alert.raised",
            alert,
            {
                "surge": [None, surge.pk],
                "metric": [None, surge.metric],
                "ratio": [None, finite(surge.ratio)],
            },
        )
        _tell_after_commit(alert)
    return alert


def raise_alert(actor: Actor, brand: Brand, title: str, summary: str = "") -> Alert:
    """Raise the alarm by hand (anyone who works in the brand); the chain is told at once."""
    user = actor.user
    if user is None or not has_perm(user, brand.organization, Perm.VIEW, brand):
        raise NotPermitted(_("You do not work in this brand."))
    title = title.replace("\x00", "").strip()
    summary = summary.replace("\x00", "").strip()
    if not title:
        raise AlertRefused(_("Say in a few words what is happening."))
    if len(title) > MAX_TITLE:
        raise AlertRefused(_("Keep the title to %(n)d characters.") % {"n": MAX_TITLE})
    if len(summary) > MAX_SUMMARY:
        raise AlertRefused(_("Keep the description to %(n)d characters.") % {"n": MAX_SUMMARY})
    now = timezone.now()
    with transaction.atomic():
        alert = Alert.objects.create(
            organization_id=brand.organization_id,
            brand=brand,
            title=title,
            summary=summary,
            raised_at=now,
            next_escalation_at=now,
        )
        record(actor, brand.organization, "crisis.alert.raised", alert, {"title": [None, title]})
        _tell_after_commit(alert)
    return alert


def _tell_after_commit(alert: Alert) -> None:
    """Tell the first rung as soon as the alert is committed (the escalation job would within 30 s)."""
    from tertulia.crisis import escalation

    alert_id = alert.pk

    def tell() -> None:
        try:
            escalation.escalate_due(only=alert_id)
        except Exception:  # the raiser (the detector, a page) goes on: the 30 s job tells it
            logger.exception(
                "telling the chain of crisis alert %s failed; the escalation job retries", alert_id
            )

    transaction.on_commit(tell)


# --- acknowledging and resolving ----------------------------------------------------------------


def acknowledge(actor: Actor, alert: Alert) -> Alert:
    """ "I am on it": the escalation stops. Only while the alert waits for someone."""
    user = actor.user
    if not may_acknowledge(user, alert):
        raise NotPermitted(_("You do not work in this alert's brand."))
    now = timezone.now()
    with transaction.atomic():
        # Conditional: of two people pressing at once, one acknowledges; the other is told.
        done = Alert.objects.filter(pk=alert.pk, state=AlertState.OPEN).update(
            state=AlertState.ACKNOWLEDGED, acknowledged_by=user, acknowledged_at=now, next_escalation_at=None
        )
        if not done:
            alert.refresh_from_db()
            raise AlreadyDone(_("This alert was acknowledged or resolved already."))
        alert.refresh_from_db()
        record(
            actor, alert.organization, "crisis.alert.acknowledged", alert, {"state": ["open", "acknowledged"]}
        )
    from tertulia.crisis import escalation

    escalation.announce(alert, escalation.ACKNOWLEDGED_EVENT, by=user)
    return alert


def resolve(actor: Actor, alert: Alert) -> Alert:
    """Close the alert (acknowledged or not): the next surge on its watch raises a new one."""
    user = actor.user
    if not may_see(user, alert):
        raise NotPermitted(_("You do not work in this alert's brand."))
    now = timezone.now()
    with transaction.atomic():
        before = alert.state
        done = Alert.objects.filter(pk=alert.pk, state__in=UNRESOLVED).update(
            state=AlertState.RESOLVED, resolved_at=now, next_escalation_at=None
        )
        if not done:
            alert.refresh_from_db()
            raise AlreadyDone(_("This alert was resolved already."))
        alert.refresh_from_db()
        record(actor, alert.organization, "crisis.alert.resolved", alert, {"state": [before, "resolved"]})
    from tertulia.crisis import escalation

    escalation.announce(alert, escalation.RESOLVED_EVENT, by=user)
    return alert
