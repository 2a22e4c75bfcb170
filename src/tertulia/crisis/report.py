"""The post-incident report: written when a crisis closes (`write_report`, called by
tertulia.crisis.mode.end_crisis), stored as Markdown on `Crisis.report`, completed by people afterwards
(what went well, what to change), shown escaped (`render_markdown`) and downloadable as a .md file.

What it reads: the crisis and its alert and surge (how fast: detection → alert → acknowledgement →
crisis mode → first holding statement → resolution), the per-minute counts of the brand's watch (peak
volume, negative share), publishing (posts whose time came while paused), the inbox (replies held for
a crisis approver, replies sent), the checklist (who ticked what, when; what was left undone), the roles
and the timeline.

Every text that comes from people or the networks (titles, notes, names, statement texts) is written
into the Markdown escaped (`md`): HTML becomes entities and Markdown punctuation is backslashed, so the
downloaded file, opened in any Markdown viewer, shows the text and never runs it; `render_markdown`
turns the small subset the report uses (headings, lists, paragraphs, bold) into HTML and escapes
everything else.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import User
from tertulia.core.permissions import covers_all_brands, may_access_brand
from tertulia.core.zones import zone
from tertulia.crisis.models import (
    Bucket,
    ChecklistItem,
    Crisis,
    CrisisRoleKind,
    CrisisState,
    HoldingStatement,
    TimelineEntry,
    WatchKind,
)

MAX_REPORT = 100_000
MAX_LESSONS = 20_000
MIN_FIXED = 12  # characters of a holding statement that every reply with it shares


class ReportRefused(ValueError):
    """The report cannot be changed as asked; the message says why."""


# --- escaping ------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>])")


def md(text: str | None, *, one_line: bool = True) -> str:
    """`text` as literal Markdown: HTML escaped as entities, Markdown punctuation backslashed."""
    value = (text or "").replace("\x00", "")
    if one_line:
        value = " ".join(value.split())
    value = value.replace("&", "&amp;").replace("<", "&lt;")
    value = _MD_SPECIAL.sub(r"\\\1", value)
    return value


_INLINE = re.compile(r"\\(.)|&(lt|gt|amp|quot|#39);|\*\*", re.DOTALL)
_ENTITY = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "#39": "'"}


def _inline(text: str) -> str:
    """One line of the report's Markdown as HTML: backslash escapes and the five entities are read as
    the characters they stand for, `**…**` is bold, and everything else is text (escaped)."""
    out: list[str] = []
    position = 0
    strong = False
    for match in _INLINE.finditer(text):
        out.append(escape(text[position : match.start()]))
        if match.group(1) is not None:
            out.append(escape(match.group(1)))
        elif match.group(2) is not None:
            out.append(escape(_ENTITY[match.group(2)]))
        else:
            out.append("</strong>" if strong else "<strong>")
            strong = not strong
        position = match.end()
    out.append(escape(text[position:]))
    if strong:
        out.append("</strong>")
    return "".join(out)


_HEADING = re.compile(r"^(#{1,4})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+(.*)$")


def render_markdown(source: str) -> SafeString:
    """The report's Markdown subset as HTML; nothing of the source reaches the page unescaped."""
    html: list[str] = []
    paragraph: list[str] = []
    list_tag = ""

    def close_paragraph() -> None:
        if paragraph:
            html.append("<p>" + "<br>".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()

    def close_list() -> None:
        nonlocal list_tag
        if list_tag:
            html.append(f"</{list_tag}>")
            list_tag = ""

    for raw in (source or "").replace("\x00", "").splitlines():
        line = raw.rstrip()
        heading = _HEADING.match(line)
        bullet = _BULLET.match(line)
        numbered = None if bullet else _NUMBERED.match(line)
        if not line.strip():
            close_paragraph()
            close_list()
        elif heading:
            close_paragraph()
            close_list()
            level = len(heading.group(1)) + 1  # the page has its own h1
            html.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif bullet or numbered:
            close_paragraph()
            tag = "ul" if bullet else "ol"
            if list_tag != tag:
                close_list()
                html.append(f"<{tag}>")
                list_tag = tag
            item = bullet or numbered
            assert item is not None
            html.append(f"<li>{_inline(item.group(1))}</li>")
        else:
            close_list()
            paragraph.append(line)
    close_paragraph()
    close_list()
    return mark_safe("\n".join(html))  # noqa: S308  # every text went through _inline's escaping


# --- what the report measures --------------------------------------------------------------------


@dataclass
class Numbers:
    peak_per_minute: int
    peak_at: datetime | None
    volume: int
    negative: int
    posts_held: int
    replies_held: int
    replies_released: int
    replies_sent: int
    first_statement_at: datetime | None

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.volume if self.volume else None


def _window(crisis: Crisis) -> tuple[datetime, datetime]:
    start = crisis.opened_at
    alert = crisis.alert
    if alert is not None:
        start = min(start, alert.raised_at)
        if alert.surge is not None:
            start = min(start, alert.surge.started_at)
    return start, crisis.closed_at or timezone.now()


def _brand_q(crisis: Crisis, path: str = "brand") -> Q:
    if crisis.brand_id is None:
        return Q(**{"organization_id": crisis.organization_id})
    return Q(**{f"{path}_id": crisis.brand_id})


def measure(crisis: Crisis) -> Numbers:
    from tertulia.guard.models import GuardHold, HoldCause, HoldState, ItemKind
    from tertulia.inbox.models import Message
    from tertulia.inbox.models.message import Delivery, Direction

    start, end = _window(crisis)
    buckets = Bucket.objects.filter(
        watch__organization_id=crisis.organization_id,
        watch__kind=WatchKind.BRAND,
        minute__gte=start.replace(second=0, microsecond=0),
        minute__lt=end,
    )
    if crisis.brand_id is not None:
        buckets = buckets.filter(watch__brand_id=crisis.brand_id)
    totals = buckets.aggregate(volume=Sum("volume"), negative=Sum("negative"))
    peak = buckets.values("minute").annotate(total=Sum("volume")).order_by("-total", "minute").first()
    held = GuardHold.objects.filter(
        _brand_q(crisis),
        organization_id=crisis.organization_id,
        kind=ItemKind.REPLY,
        cause=HoldCause.CRISIS,
        created_at__gte=crisis.opened_at,
        created_at__lt=end,
    )
    sent = Message.objects.filter(
        _brand_q(crisis),
        organization_id=crisis.organization_id,
        direction=Direction.OUTBOUND,
        delivery=Delivery.SENT,
        sent_at__gte=crisis.opened_at,
        sent_at__lt=end,
    )
    return Numbers(
        peak_per_minute=int(peak["total"]) if peak else 0,
        peak_at=peak["minute"] if peak else None,
        volume=int(totals["volume"] or 0),
        negative=int(totals["negative"] or 0),
        posts_held=_posts_held(crisis, end),
        replies_held=held.count(),
        replies_released=held.filter(state=HoldState.RELEASED).count(),
        replies_sent=sent.count(),
        first_statement_at=_first_statement(crisis, sent),
    )


def _posts_held(crisis: Crisis, end: datetime) -> int:
    """Posts with a delivery that came due while the crisis's pause held publishing (a post moved out of
    that time before it came due was not held; one cancelled after it came due was)."""
    from tertulia.publishing.models import DeliveryTarget
    from tertulia.publishing.models.ledger import TargetState

    pause = crisis.pause
    if pause is None:
        return 0
    start = max(pause.started_at, crisis.opened_at)
    until = min(pause.ended_at, end) if pause.ended_at is not None else end
    if until <= start:
        return 0
    return (
        DeliveryTarget.objects.filter(
            _brand_q(crisis), organization_id=crisis.organization_id, due_at__gte=start, due_at__lt=until
        )
        # Cancelled before its time came: never held (its last change is the cancel).
        .exclude(state=TargetState.CANCELLED, updated_at__lt=F("due_at"))
        .values("post_id")
        .distinct()
        .count()
    )


def _first_statement(crisis: Crisis, sent: object) -> datetime | None:
    """When the first reply using one of the playbook's holding statements went out."""
    from django.db.models import QuerySet

    assert isinstance(sent, QuerySet)
    if crisis.playbook_id is None:
        return None
    bodies = [
        fragment
        for body in HoldingStatement.objects.filter(playbook_id=crisis.playbook_id).values_list(
            "body", flat=True
        )
        if (fragment := _fixed_part(body))
    ]
    if not bodies:
        return None
    match = Q(pk__in=[])
    for body in bodies:
        match |= Q(text__contains=body)
    first = sent.filter(match).order_by("sent_at").values_list("sent_at", flat=True).first()
    return first


def _fixed_part(body: str) -> str:
    """The longest stretch of a statement that is the same in every reply sent with it: statements have
    variables ("Hola, {name}: …") that each reply fills differently. Too short a stretch would match
    replies that never used the statement, so under MIN_FIXED characters nothing is matched."""
    from tertulia.inbox.saved_replies import VARIABLE

    parts = [part.strip() for part in VARIABLE.split(body)[::2]]  # split() puts the names at odd places
    longest = max(parts, key=len, default="")
    return longest[:200] if len(longest) >= MIN_FIXED else ""


# --- writing it ----------------------------------------------------------------------------------


def _zone(crisis: Crisis) -> zoneinfo.ZoneInfo:
    return zone(crisis.brand.timezone if crisis.brand is not None else None)


def _when(moment: datetime | None, zone: zoneinfo.ZoneInfo) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _duration(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return "—"
    seconds = max(0, int((end - start).total_seconds()))
    if seconds < 60:
        return ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds}
    minutes, _seconds = divmod(seconds, 60)
    if minutes < 120:
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    hours, minutes = divmod(minutes, 60)
    return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}


def _who(user: User | None) -> str:
    return md(str(user)) if user is not None else _("someone no longer in Tertulia")


def write_report(crisis: Crisis) -> str:
    """Write the report of a closed crisis and store it on `Crisis.report` (called by end_crisis);
    returns its Markdown. An active crisis gets the text only (nothing stored)."""
    text = compose_report(crisis)
    if Crisis.objects.filter(pk=crisis.pk, state=CrisisState.CLOSED).update(report=text):
        crisis.report = text
    return text


def compose_report(crisis: Crisis) -> str:
    """The report's Markdown, from what the crisis models and the other apps hold (nothing saved)."""
    crisis = Crisis.objects.select_related(
        "brand", "alert", "alert__surge", "alert__acknowledged_by", "playbook", "opened_by", "closed_by"
    ).get(pk=crisis.pk)
    zone = _zone(crisis)
    numbers = measure(crisis)
    alert = crisis.alert
    surge = alert.surge if alert is not None else None
    scope = md(crisis.brand.name) if crisis.brand is not None else _("the whole organization")
    lines: list[str] = []
    title = _("Post-incident report: %(title)s") % {"title": md(crisis.title)}
    lines.append(f"# {title}")
    lines.append("")
    if crisis.is_rehearsal:
        lines.append("**" + _("Rehearsal: a crisis staged on the sandbox network for practice.") + "**")
        lines.append("")
    lines.append(f"- **{_('Scope')}:** {scope}")
    lines.append(f"- **{_('Crisis mode on')}:** {_when(crisis.opened_at, zone)} ({_who(crisis.opened_by)})")
    closed = _when(crisis.closed_at, zone) if crisis.state == CrisisState.CLOSED else _("still on")
    closer = f" ({_who(crisis.closed_by)})" if crisis.closed_by_id else ""
    lines.append(f"- **{_('Crisis mode off')}:** {closed}{closer}")
    lines.append(f"- **{_('Time zone')}:** {md(str(zone))}")
    if crisis.playbook is not None:
        lines.append(f"- **{_('Playbook')}:** {md(crisis.playbook.name)}")
    if alert is not None:
        lines.append(f"- **{_('Alert')}:** {md(alert.title)}")
    lines.append("")

    # How fast.
    start = surge.started_at if surge is not None else (alert.raised_at if alert is not None else None)
    lines.append(f"## {_('How fast')}")
    lines.append("")
    lines.append(
        _("Each time is counted from the start of the surge (or from the alert when there was no surge).")
    )
    lines.append("")
    milestones: list[tuple[str, datetime | None]] = []
    if surge is not None:
        milestones.append((_("Surge started"), surge.started_at))
        milestones.append((_("Surge detected"), surge.detected_at))
    if alert is not None:
        milestones.append((_("Alert raised"), alert.raised_at))
        milestones.append((_("Alert acknowledged"), alert.acknowledged_at))
    milestones.append((_("Crisis mode on"), crisis.opened_at))
    milestones.append((_("First holding statement sent"), numbers.first_statement_at))
    milestones.append((_("Resolved"), crisis.closed_at))
    for label, moment in milestones:
        after = _duration(start, moment) if start is not None and moment is not None else "—"
        lines.append(f"- **{label}:** {_when(moment, zone)} (+{after})" if moment else f"- **{label}:** —")
    if alert is not None and alert.acknowledged_by_id:
        lines.append(f"- {_('Acknowledged by')}: {_who(alert.acknowledged_by)}")
    lines.append("")

    # The numbers.
    lines.append(f"## {_('The numbers')}")
    lines.append("")
    if numbers.peak_at is not None:
        lines.append(
            "- "
            + _("Peak volume: %(n)d messages in one minute (%(when)s)")
            % {"n": numbers.peak_per_minute, "when": _when(numbers.peak_at, zone)}
        )
    else:
        lines.append("- " + _("Peak volume: no per-minute counts for this period"))
    lines.append("- " + _("Messages received during the period: %(n)d") % {"n": numbers.volume})
    share = numbers.negative_share
    if share is not None:
        lines.append("- " + _("Negative share: %(pct).0f%%") % {"pct": share * 100})
    if surge is not None:
        lines.append(
            "- "
            + _("Surge: %(observed).1f against %(expected).1f expected (%(ratio).1f times)")
            % {"observed": surge.observed, "expected": surge.expected, "ratio": surge.ratio}
        )
    lines.append("- " + _("Posts held by the pause: %(n)d") % {"n": numbers.posts_held})
    lines.append(
        "- "
        + _("Replies held for a crisis approver: %(n)d (%(released)d released)")
        % {"n": numbers.replies_held, "released": numbers.replies_released}
    )
    lines.append("- " + _("Replies sent: %(n)d") % {"n": numbers.replies_sent})
    lines.append("")

    # The checklist.
    items = list(ChecklistItem.objects.filter(crisis=crisis).select_related("done_by"))
    role_labels = dict(CrisisRoleKind.choices)
    lines.append(f"## {_('The checklist')}")
    lines.append("")
    done = [item for item in items if item.done_at is not None]
    undone = [item for item in items if item.done_at is None]
    if not items:
        lines.append(_("No checklist was run."))
    for item in done:
        role = f" [{role_labels.get(item.role, md(item.role))}]" if item.role else ""
        note = f": {md(item.note)}" if item.note else ""
        lines.append(f"- ✔ {md(item.title)}{role}: {_when(item.done_at, zone)}, {_who(item.done_by)}{note}")
    lines.append("")
    if undone:
        lines.append(f"### {_('Left undone')}")
        lines.append("")
        for item in undone:
            role = f" [{role_labels.get(item.role, md(item.role))}]" if item.role else ""
            lines.append(f"- ✘ {md(item.title)}{role}")
        lines.append("")

    # Roles.
    lines.append(f"## {_('Who did what')}")
    lines.append("")
    roles = list(crisis.roles.select_related("user"))
    if not roles:
        lines.append(_("No crisis roles were assigned."))
    for assigned in roles:
        lines.append(f"- {role_labels.get(assigned.role, md(assigned.role))}: {_who(assigned.user)}")
    lines.append("")

    # The timeline.
    lines.append(f"## {_('Timeline')}")
    lines.append("")
    entries = list(TimelineEntry.objects.filter(crisis=crisis).select_related("actor")[:2000])
    if not entries:
        lines.append(_("Nothing was recorded."))
    for entry in entries:
        by = f" ({_who(entry.actor)})" if entry.actor_id else ""
        lines.append(f"- **{_when(entry.at, zone)}** {md(entry.get_kind_display())}: {md(entry.text)}{by}")
    lines.append("")

    # For people to complete.
    lines.append(f"## {_('What went well')}")
    lines.append("")
    lines.append(_("(To complete.)"))
    lines.append("")
    lines.append(f"## {_('What to change')}")
    lines.append("")
    lines.append(_("(To complete: in the playbook, the escalation chain, the holding statements.)"))
    lines.append("")
    text = "\n".join(lines)
    return text[:MAX_REPORT]


# --- after the close -----------------------------------------------------------------------------


def may_read(user: User, crisis: Crisis) -> bool:
    """A brand's crisis report: whoever sees the brand. An organization-wide one adds up every brand's
    numbers and tells what was done in each, so only people who work in every brand read it (a person
    limited to some brands sees their brands' numbers in the crisis room instead)."""
    if crisis.brand is not None:
        return may_access_brand(user, crisis.brand)
    return covers_all_brands(user, crisis.organization)


def may_edit(user: User, crisis: Crisis) -> bool:
    """Those who may switch crisis mode in its scope complete its report (for an organization-wide crisis:
    people who work in every brand, as for starting one)."""
    from tertulia.crisis.mode import may_run

    return may_run(user, crisis.organization, crisis.brand)


def _storable(value: str, limit: int, what: str) -> str:
    if "\x00" in value or any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ReportRefused(_("%(what)s contains characters that cannot be stored.") % {"what": what})
    if len(value) > limit:
        raise ReportRefused(_("%(what)s must be at most %(n)d characters.") % {"what": what, "n": limit})
    return value


def update_report(actor: Actor, crisis: Crisis, report: str, lessons: str) -> Crisis:
    """People complete the report of a closed crisis (the text and the lessons learned)."""
    if actor.user is None or not may_edit(actor.user, crisis):
        raise ReportRefused(_("You may not edit this crisis's report."))
    report = _storable(report.replace("\r\n", "\n"), MAX_REPORT, _("The report"))
    lessons = _storable(lessons.replace("\r\n", "\n"), MAX_LESSONS, _("What we learned"))
    with transaction.atomic():
        current = Crisis.objects.select_for_update().get(pk=crisis.pk)
        if current.state != CrisisState.CLOSED:
            raise ReportRefused(_("The report is written when the crisis closes."))
        changes: dict[str, list[object]] = {}
        if current.report != report:
            changes["report"] = [len(current.report), len(report)]
        if current.lessons != lessons:
            changes["lessons"] = [len(current.lessons), len(lessons)]
        if not changes:
            return current
        current.report, current.lessons = report, lessons
        current.save(update_fields=["report", "lessons"])
        record(actor, current.organization, "crisis.report_edit", current, changes)
    return current


def rewrite_report(actor: Actor, crisis: Crisis) -> Crisis:
    """Write the report again from the records (what people added is lost: they confirm first)."""
    if actor.user is None or not may_edit(actor.user, crisis):
        raise ReportRefused(_("You may not edit this crisis's report."))
    if crisis.state != CrisisState.CLOSED:
        raise ReportRefused(_("The report is written when the crisis closes."))
    with transaction.atomic():
        text = write_report(crisis)
        record(actor, crisis.organization, "crisis.report_rewrite", crisis, {"report": [None, len(text)]})
    crisis.refresh_from_db()
    return crisis


def download_text(crisis: Crisis) -> str:
    """The .md file: the report and, after it, the lessons learned (escaped: they are people's text)."""
    text = crisis.report or compose_report(crisis)
    if crisis.lessons.strip():
        lessons = "\n".join(md(line, one_line=True) for line in crisis.lessons.splitlines())
        text = f"{text.rstrip()}\n\n## {_('What we learned')}\n\n{lessons}\n"
    # People may have typed raw HTML into the report: a Markdown viewer shows it as text, never runs it.
    return text.replace("\x00", "").replace("<", "&lt;")


def download_name(crisis: Crisis) -> str:
    moment = crisis.closed_at or crisis.opened_at or timezone.now()
    return f"crisis-{crisis.pk}-{moment:%Y%m%d}.md"


def elapsed(start: datetime | None, end: datetime | None) -> timedelta | None:
    return end - start if start is not None and end is not None else None
