"""The escalation chain: who is told of an alert, in what order, and how (docs/crisis-alerts.md).

A brand's chain is its EscalationSteps in position order. Position 0, the person on call, is told as
soon as the alert is raised; each later rung is told when nobody acknowledged for its
`wait_minutes` after the rung before. When the last rung was told and still nobody acknowledged,
the whole chain is told again every `TERTULIA_CRISIS_RENOTIFY_MINUTES` (15 by default) until someone
acknowledges or resolves the alert.

A brand without a chain falls back to the organization's owners, administrators and brand managers
who work in the brand, all told at once (one rung), then re-told like any chain.

Each telling goes out in the app (an inbox notification of kind "crisis"), by e-mail (for rungs
with e-mail on; the fallback always e-mails) in each person's language with a signed acknowledge
link, and once per telling to the organization's webhooks. Each is recorded as an AlertNotice;
a medium that fails stores its error and never stops the others.

Several workers: the alert due is claimed with a conditional update on (state, level,
next_escalation_at), so exactly one worker tells each rung.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tertulia.core.models import Brand, Role, User
from tertulia.core.permissions import Perm, brand_members, has_perm, permissions_of
from tertulia.crisis.alerts import alert_path, explanation_of, finite, may_see
from tertulia.crisis.models import Alert, AlertNotice, AlertState, EscalationStep, Medium

logger = logging.getLogger(__name__)

ALERT_EVENT = "crisis.alert"
ESCALATED_EVENT = "crisis.escalated"
ACKNOWLEDGED_EVENT = "crisis.acknowledged"
RESOLVED_EVENT = "crisis.resolved"
BATCH = 50
ACK_SALT = "tertulia.crisis.acknowledge"
MAX_ERROR = 500
FALLBACK_ROLES = (Role.OWNER, Role.ADMIN, Role.BRAND_MANAGER)
FALLBACK_WAIT = 10  # minutes between the person on call (a rotation's) and the fallback, without a chain


def renotify_every() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "TERTULIA_CRISIS_RENOTIFY_MINUTES", 15)))


def renotify_rounds() -> int:
    return int(getattr(settings, "TERTULIA_CRISIS_RENOTIFY_ROUNDS", 8))


def ack_link_max_age() -> timedelta:
    return timedelta(hours=int(getattr(settings, "TERTULIA_CRISIS_ACK_LINK_HOURS", 24)))


def public_url() -> str:
    """Where people reach Tertulia (links in e-mails and chat messages start with it)."""
    configured = str(getattr(settings, "TERTULIA_PUBLIC_URL", "") or "").rstrip("/")
    if configured:
        return configured
    origins = list(getattr(settings, "CSRF_TRUSTED_ORIGINS", []) or [])
    return str(origins[0]).rstrip("/") if origins else "http://localhost:8000"


# --- the chain -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rung:
    people: tuple[User, ...]
    wait_minutes: int
    by_email: bool
    fallback: bool = False


def works_in(user: User, brand: Brand) -> bool:
    return user.is_active and has_perm(user, brand.organization, Perm.VIEW, brand)


def fallback_people(brand: Brand) -> list[User]:
    """Owners, administrators and brand managers who work in the brand."""
    members = (
        brand_members(brand).filter(role__in=FALLBACK_ROLES, user__is_active=True).select_related("user")
    )
    return [
        m.user for m in members.order_by("role", "user__email") if Perm.MANAGE_BRANDS in permissions_of(m)
    ]


def chain_for(brand: Brand, at: datetime | None = None) -> list[Rung]:
    """The brand's rungs, in order, leaving out people who no longer work in the brand; the fallback
    rung when none is left. When an on-call rotation covers the brand, whoever is on call at `at`
    (now) is position 0, in place of the chain's first person; without a chain, the fallback rung
    follows them after FALLBACK_WAIT minutes."""
    rungs = [
        Rung((step.user,), step.wait_minutes, step.by_email)
        for step in EscalationStep.objects.filter(brand=brand).select_related("user").order_by("position")
        if works_in(step.user, brand)
    ]
    from tertulia.teamops.oncall import on_call  # teamops builds on crisis; imported here

    try:
        paged = tuple(user for user in on_call(brand, at) if works_in(user, brand))
    except Exception:  # a broken rotation must never leave a crisis without anyone paged
        logger.exception("on-call lookup failed for brand %s; paging the chain as configured", brand.pk)
        paged = ()
    if paged and rungs:
        # The person on call joins position 0; whoever the chain names there is still paged with them.
        first = tuple(dict.fromkeys((*paged, *rungs[0].people)))
        return [Rung(first, rungs[0].wait_minutes, rungs[0].by_email), *rungs[1:]]
    if rungs:
        return rungs
    fallback = Rung(tuple(fallback_people(brand)), FALLBACK_WAIT if paged else 0, True, fallback=True)
    return [Rung(paged, 0, True), fallback] if paged else [fallback]


def everyone(rungs: Sequence[Rung]) -> list[User]:
    seen: set[int] = set()
    people = []
    for rung in rungs:
        for user in rung.people:
            if user.pk not in seen:
                seen.add(user.pk)
                people.append(user)
    return people


# --- the escalation job --------------------------------------------------------------------------


def escalate_due(now: datetime | None = None, *, only: int | None = None) -> int:
    """Tell whoever's turn it is on every open alert that is due. Returns how many tellings were done.

    `level` is how many tellings the alert had: below the chain's length it is the index of the rung
    told next; from there on, each telling is the whole chain again, TERTULIA_CRISIS_RENOTIFY_ROUNDS
    times at the most (then `next_escalation_at` is emptied: the alert waits on its page).
    """
    now = now or timezone.now()
    due = Alert.objects.filter(state=AlertState.OPEN, next_escalation_at__lte=now)
    if only is not None:
        due = due.filter(pk=only)
    done = 0
    for alert in due.select_related("brand", "organization").order_by("next_escalation_at", "id")[:BATCH]:
        try:
            done += _escalate(alert, now)
        except Exception:  # one alert that cannot be told must not keep the others from being told
            logger.exception("crisis alert %s could not be escalated", alert.pk)
    return done


def _escalate(alert: Alert, now: datetime) -> int:
    """One due alert's telling; 1 when this worker did it."""
    rungs = chain_for(alert.brand, now)
    level = alert.level
    last = len(rungs) + renotify_rounds()  # the chain once, then the whole chain again this many times
    if level >= last:
        # Told often enough: it stays open on its page, without waking anyone again.
        Alert.objects.filter(pk=alert.pk, level=level).update(next_escalation_at=None)
        return 0
    if level < len(rungs):
        people = list(rungs[level].people)
        by_email = rungs[level].by_email
        following = level + 1
        wait = (
            timedelta(minutes=rungs[following].wait_minutes) if following < len(rungs) else renotify_every()
        )
    else:
        people = everyone(rungs)
        by_email = any(rung.by_email for rung in rungs)
        wait = renotify_every()
    claimed = Alert.objects.filter(
        pk=alert.pk, state=AlertState.OPEN, level=level, next_escalation_at=alert.next_escalation_at
    ).update(level=level + 1, next_escalation_at=now + wait if level + 1 < last else None)
    if not claimed:  # another worker told this rung, or someone acknowledged meanwhile
        return 0
    emailed = {
        user.pk
        for index, rung in enumerate(rungs)
        if (index == level or level >= len(rungs)) and rung.by_email
        for user in rung.people
    }
    tell(alert, level, people, emailed=emailed if by_email else set(), rungs=len(rungs), now=now)
    return 1


def tell(
    alert: Alert, level: int, people: Sequence[User], *, emailed: set[int], rungs: int, now: datetime
) -> list[AlertNotice]:
    """One telling: the app and e-mail for each person, the webhooks once. Never raises for a medium."""
    notices = []
    for user in people:
        if not may_see(user, alert):
            continue
        for medium, send in (
            (Medium.APP, lambda u=user: _in_app(alert, u)),
            (Medium.EMAIL, lambda u=user: _by_email(alert, u, now)),
        ):
            if medium == Medium.EMAIL and user.pk not in emailed:
                continue
            notice = _notice(alert, level, medium, user, send)
            if notice is not None:
                notices.append(notice)
    event = ALERT_EVENT if level == 0 else ESCALATED_EVENT
    hooked = _notice(
        alert, level, Medium.WEBHOOK, None, lambda: _to_webhooks(alert, event, level, people, rungs)
    )
    if hooked is not None:
        notices.append(hooked)
    return notices


def _notice(alert: Alert, level: int, medium: str, user: User | None, send: Any) -> AlertNotice | None:
    """Send through one medium and record it; None when there was nobody to send to (no endpoint wants
    the event: `send` returned 0)."""
    error = ""
    try:
        if send() == 0:
            return None
    except Exception as exc:  # one medium failing never stops the others; the error is kept
        logger.warning("crisis alert %s: %s notice failed: %s", alert.pk, medium, exc)
        reason = getattr(exc, "reason", "") or f"{exc.__class__.__name__}: {exc}"
        error = str(reason)[:MAX_ERROR] or exc.__class__.__name__
    return AlertNotice.objects.create(
        alert=alert, level=level, medium=medium, user=user, sent_at=timezone.now(), error=error
    )


def _language(user: User) -> str:
    return user.language or settings.LANGUAGE_CODE


def headline(alert: Alert) -> str:
    """The alert's title in the current language (a surge's is rebuilt; one raised by hand is as typed)."""
    explanation = explanation_of(alert)
    return explanation.title if explanation is not None else alert.title


def summary_text(alert: Alert) -> str:
    explanation = explanation_of(alert)
    return explanation.as_text() if explanation is not None else alert.summary


def _in_app(alert: Alert, user: User) -> None:
    from tertulia.inbox.models import NotificationKind
    from tertulia.inbox.notifications import notify_people

    with translation.override(_language(user)):
        text = _("Crisis alert: %(title)s") % {"title": headline(alert)}
    notify_people(alert.organization_id, [user], NotificationKind.CRISIS, text, url=alert_path(alert))


# --- e-mail and the signed acknowledge link -------------------------------------------------------


def ack_token(alert: Alert, user: User) -> str:
    return signing.dumps({"a": alert.pk, "u": user.pk}, salt=ACK_SALT, compress=True)


class LinkRefused(ValueError):
    """The acknowledge link cannot be used; the message says why."""


def read_ack_token(token: str) -> tuple[int, int]:
    """(alert id, user id) from a link, or LinkRefused (tampered, or older than the link's life)."""
    try:
        data = signing.loads(token, salt=ACK_SALT, max_age=ack_link_max_age())
    except signing.SignatureExpired:
        raise LinkRefused(_("This link has expired: open the alert in Tertulia instead.")) from None
    except signing.BadSignature:
        raise LinkRefused(_("This link is not valid: open the alert in Tertulia instead.")) from None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int) or not isinstance(data.get("u"), int):
        raise LinkRefused(_("This link is not valid: open the alert in Tertulia instead."))
    return data["a"], data["u"]


def ack_url(alert: Alert, user: User) -> str:
    return public_url() + reverse("web:crisis-alert-ack-link", args=[ack_token(alert, user)])


def email_for(alert: Alert, user: User, now: datetime | None = None) -> tuple[str, str]:
    """(subject, body) of the alert e-mail for `user`, in their language."""
    with translation.override(_language(user)):
        title = headline(alert)
        subject = _("Crisis alert: %(title)s") % {"title": title}
        hours = int(ack_link_max_age().total_seconds() // 3600)
        lines = [
            _("Hello %(name)s,") % {"name": user.get_short_name()},
            "",
            _("Tertulia raised an alert for %(brand)s and nobody has acknowledged it yet.")
            % {"brand": alert.brand.name},
            "",
            title,
            "",
            summary_text(alert),
            "",
            _("Acknowledge it (you are on it, the escalation stops); the link works for %(hours)d hours:")
            % {"hours": hours},
            ack_url(alert, user),
            "",
            _("The alert in Tertulia:"),
            public_url() + alert_path(alert),
        ]
    return subject, "\n".join(lines) + "\n"


def _by_email(alert: Alert, user: User, now: datetime) -> None:
    from tertulia.governance.mail import send_email

    subject, body = email_for(alert, user, now)
    send_email(user.email, subject, body)


# --- webhooks --------------------------------------------------------------------------------------


def _payload(alert: Alert, summary: str) -> dict[str, Any]:
    explanation = explanation_of(alert)
    data: dict[str, Any] = {
        "summary": summary,
        "url": public_url() + alert_path(alert),
        "alert": {
            "id": alert.pk,
            "title": alert.title,
            "state": alert.state,
            "level": alert.level,
            "raised_at": alert.raised_at.isoformat(),
            "is_rehearsal": alert.is_rehearsal,
            "brand": {"id": alert.brand_id, "name": alert.brand.name},
        },
    }
    if alert.surge is not None and explanation is not None:
        surge = alert.surge
        data["surge"] = {
            "id": surge.pk,
            "metric": surge.metric,
            "observed": finite(surge.observed),
            "expected": finite(surge.expected),
            "ratio": finite(surge.ratio) if surge.expected > 0 else None,
            "window_minutes": surge.window_minutes,
            "started_at": surge.started_at.isoformat(),
            "top_terms": explanation.terms,
        }
    return data


def _to_webhooks(alert: Alert, event: str, level: int, people: Sequence[User], rungs: int) -> int:
    from tertulia import webhooks

    with translation.override(settings.LANGUAGE_CODE):
        explanation = explanation_of(alert)
        what = explanation.one_line() if explanation is not None else alert.title
        names = ", ".join(user.get_full_name() for user in people) or _("nobody (no one works in the brand)")
        if level == 0:
            told = _("Not acknowledged yet; telling %(people)s.") % {"people": names}
        elif level < rungs:
            told = _("Still not acknowledged: escalated to %(people)s (step %(step)d of %(steps)d).") % {
                "people": names,
                "step": level + 1,
                "steps": rungs,
            }
        else:
            told = _("Still not acknowledged: telling the whole chain again (%(people)s).") % {
                "people": names
            }
        summary = f"{alert.brand.name}: {what} {told}" if explanation is None else f"{what} {told}"
        return webhooks.emit(alert.organization, event, _payload(alert, summary))


def announce(alert: Alert, event: str, *, by: User | None) -> None:
    """Tell the webhooks that the alert was acknowledged or resolved (recorded as a notice)."""
    from tertulia import webhooks

    def send() -> int:
        with translation.override(settings.LANGUAGE_CODE):
            who = by.get_full_name() if by is not None else _("someone")
            if event == ACKNOWLEDGED_EVENT:
                text = _("%(who)s acknowledged the alert “%(title)s” (%(brand)s).")
            else:
                text = _("%(who)s resolved the alert “%(title)s” (%(brand)s).")
            summary = text % {"who": who, "title": headline(alert), "brand": alert.brand.name}
            return webhooks.emit(alert.organization, event, _payload(alert, summary))

    _notice(alert, alert.level, Medium.WEBHOOK, None, send)


# --- editing the chain -------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepInput:
    user_id: int
    wait_minutes: int
    by_email: bool


MAX_STEPS = 20
MAX_WAIT = 24 * 60


def may_edit_chain(user: User | None, brand: Brand) -> bool:
    return user is not None and has_perm(user, brand.organization, Perm.MANAGE_BRANDS, brand)


def candidates(brand: Brand) -> list[User]:
    """Who may be on the brand's chain: active people who work in it."""
    return [
        m.user
        for m in brand_members(brand)
        .filter(user__is_active=True)
        .select_related("user")
        .order_by("user__email")
    ]


def set_chain(actor: Any, brand: Brand, steps: Sequence[StepInput]) -> list[EscalationStep]:
    """Replace the brand's chain (MANAGE_BRANDS in the brand); audited."""
    from django.db import transaction

    from tertulia.core.actions.audit import record
    from tertulia.crisis.alerts import AlertRefused, NotPermitted

    if not may_edit_chain(actor.user, brand):
        raise NotPermitted(_("You may not manage this brand."))
    if len(steps) > MAX_STEPS:
        raise AlertRefused(_("A chain has at most %(n)d steps.") % {"n": MAX_STEPS})
    allowed = {user.pk: user for user in candidates(brand)}
    seen: set[int] = set()
    for step in steps:
        if step.user_id not in allowed:
            raise AlertRefused(_("Everyone on the chain must work in the brand."))
        if step.user_id in seen:
            raise AlertRefused(_("A person appears only once on the chain."))
        seen.add(step.user_id)
        if not 0 <= step.wait_minutes <= MAX_WAIT:
            raise AlertRefused(_("Waits are between 0 and %(n)d minutes.") % {"n": MAX_WAIT})
    with transaction.atomic():
        before = [
            [s.user_id, s.wait_minutes, s.by_email]
            for s in EscalationStep.objects.filter(brand=brand).order_by("position")
        ]
        EscalationStep.objects.filter(brand=brand).delete()
        created = EscalationStep.objects.bulk_create(
            [
                EscalationStep(
                    brand=brand,
                    position=position,
                    user=allowed[step.user_id],
                    wait_minutes=step.wait_minutes,
                    by_email=step.by_email,
                )
                for position, step in enumerate(steps)
            ]
        )
        after = [[s.user_id, s.wait_minutes, s.by_email] for s in steps]
        if before != after:
            record(actor, brand.organization, "crisis.escalation.changed", brand, {"chain": [before, after]})
    return created


def notices_of(alert: Alert) -> list[AlertNotice]:
    return list(AlertNotice.objects.filter(alert=alert).select_related("user").order_by("sent_at", "id"))


def register_events() -> None:
    """The alerts' webhook event types (called from CrisisConfig.ready)."""
    from django.utils.translation import gettext_lazy

    from tertulia.webhooks import events

    events.register(
        ALERT_EVENT,
        gettext_lazy("Crisis alert"),
        gettext_lazy("A surge (or a person) raised a crisis alert; the brand's on-call person is told."),
    )
    events.register(
        ESCALATED_EVENT,
        gettext_lazy("Crisis alert escalated"),
        gettext_lazy("Nobody acknowledged a crisis alert in time: the next people on the chain are told."),
    )
    events.register(
        ACKNOWLEDGED_EVENT,
        gettext_lazy("Crisis alert acknowledged"),
        gettext_lazy("Someone acknowledged a crisis alert: the escalation stops."),
    )
    events.register(
        RESOLVED_EVENT,
        gettext_lazy("Crisis alert resolved"),
        gettext_lazy("A crisis alert was resolved."),
    )


def check_link(token: str, signed_in: User | None = None) -> tuple[Alert, User]:
    """The alert and person an e-mailed acknowledge link is for, or LinkRefused: tampered or expired,
    the alert gone, acknowledged or resolved already, the person no longer working in its brand, or
    someone else signed in on this browser."""
    alert_id, user_id = read_ack_token(token)
    alert = (
        Alert.objects.select_related("brand", "organization", "acknowledged_by").filter(pk=alert_id).first()
    )
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if alert is None or user is None or not may_see(user, alert):
        raise LinkRefused(_("This link no longer works: you do not work in this alert's brand any more."))
    if signed_in is not None and signed_in.pk != user.pk:
        raise LinkRefused(_("This link was sent to someone else. Sign out, or open the alert in Tertulia."))
    if alert.state != AlertState.OPEN:
        raise LinkRefused(_("This alert was acknowledged or resolved already."))
    return alert, user
