"""Publish → Calendar (/publish/calendar/) and the queue slots (/publish/queue/).

The calendar shows the current brand's posts by month (default) or by week, in the **brand's
time zone** (named on the page; calendar.js also tells people whose browser is elsewhere). Every
member may look. People who may edit a post (`compose.may_edit`) move it by dragging its chip
(calendar.js) or with the chip's small form; both post to /publish/posts/<id>/move/, which calls
`compose.set_time`. Days (and, by week, hours) already gone are not drop targets.

The queue page lists each channel's weekly slots; people who may set them (`queue.may_set_slots`)
edit them there. /publish/posts/<id>/queue/ puts a post in its next free slot (`queue.add_to_queue`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, User
from tertulia.core.permissions import Perm
from tertulia.publishing.access import get_post
from tertulia.publishing.actions.compose import ComposeRefused, may_edit, set_time
from tertulia.publishing.actions.queue import (
    Slot,
    add_to_queue,
    brand_zone,
    may_set_slots,
    set_slots,
    slot_instant,
    slots_by_channel,
)
from tertulia.publishing.calendar import Entry, entries, mover
from tertulia.publishing.links import post_path
from tertulia.publishing.models import Post
from tertulia.web.forms_calendar import (
    FIRST_DAY,
    LAST_DAY,
    MAX_ROWS,
    MoveForm,
    day_choices,
    parse_slot_rows,
)
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section

VIEWS = ("month", "week")
# Chips shown in a month's day before "N more" (the week view shows them all).
DAY_CHIPS = 4
LABEL_WORDS = 8
LABEL_CHARS = 60
EMPTY_ROWS = 3


# --- what the calendar shows ---------------------------------------------------------------------


@dataclass
class Chip:
    post_id: int
    state: str
    state_label: str
    when: datetime  # the instant
    local: datetime  # the same instant on the brand's clock
    label: str
    networks: list[str]
    handles: list[str]
    url: str
    movable: bool

    @property
    def time_label(self) -> str:
        return self.local.strftime("%H:%M")

    @property
    def local_input(self) -> str:
        return self.local.strftime("%Y-%m-%dT%H:%M")


@dataclass
class DayCell:
    day: date
    in_month: bool
    is_today: bool
    is_past: bool
    chips: list[Chip] = field(default_factory=list)

    @property
    def shown(self) -> list[Chip]:
        return self.chips[:DAY_CHIPS]

    @property
    def more(self) -> int:
        return max(0, len(self.chips) - DAY_CHIPS)


@dataclass
class SlotMark:
    label: str  # "09:30"
    handles: list[str]


@dataclass
class HourCell:
    day: date
    hour: int
    is_past: bool
    # The hour the clocks skip (spring forward): nothing can be put there.
    skipped: bool = False
    chips: list[Chip] = field(default_factory=list)
    slots: list[SlotMark] = field(default_factory=list)


@dataclass
class HourRow:
    hour: int
    cells: list[HourCell]

    @property
    def label(self) -> str:
        return f"{self.hour:02d}:00"


def _label(text: str) -> str:
    words = Truncator(" ".join(text.split())).words(LABEL_WORDS, truncate="…")
    return Truncator(words).chars(LABEL_CHARS, truncate="…")


def _chip(entry: Entry, zone: ZoneInfo, may_move: Callable[[Post], bool]) -> Chip:
    post = entry.post
    return Chip(
        post_id=post.pk,
        state=post.state,
        state_label=str(post.get_state_display()),
        when=entry.when,
        local=entry.when.astimezone(zone),
        label=_label(post.title or post.text) or _("(no text)"),
        networks=sorted({channel.network for channel in entry.channels}),
        handles=[channel.handle for channel in entry.channels],
        url=post_path(post.pk),
        movable=may_move(post),
    )


def _skipped(zone: ZoneInfo, day: date, hour: int) -> bool:
    wall = datetime.combine(day, time(hour, 59))
    return slot_instant(zone, day, wall.time()).astimezone(zone).replace(tzinfo=None) != wall


def _day_start(zone: ZoneInfo, day: date) -> datetime:
    return slot_instant(zone, day, time(0, 0))


def _requested_day(raw: str | None, today: date) -> date:
    try:
        day = date.fromisoformat((raw or "").strip())
    except ValueError:
        return today
    return min(max(day, FIRST_DAY), LAST_DAY)


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _calendar_url(view: str, day: date) -> str:
    day = min(max(day, FIRST_DAY), LAST_DAY)
    return f"{reverse('web:calendar')}?view={view}&date={day.isoformat()}"


def _month(brand: Brand, user: User, day: date, today: date) -> dict[str, Any]:
    zone = brand_zone(brand)
    may_move = mover(user, brand.organization)
    first = _month_start(day)
    last = _add_months(first, 1) - timedelta(days=1)
    grid_start = first - timedelta(days=first.weekday())
    grid_end = last + timedelta(days=6 - last.weekday())
    cells = {
        grid_start + timedelta(days=n): DayCell(
            day=grid_start + timedelta(days=n),
            in_month=first <= grid_start + timedelta(days=n) <= last,
            is_today=grid_start + timedelta(days=n) == today,
            is_past=grid_start + timedelta(days=n) < today,
        )
        for n in range((grid_end - grid_start).days + 1)
    }
    found, truncated = entries(
        brand, _day_start(zone, grid_start), _day_start(zone, grid_end + timedelta(days=1))
    )
    for entry in found:
        chip = _chip(entry, zone, may_move)
        cell = cells.get(chip.local.date())
        if cell is not None:
            cell.chips.append(chip)
    ordered = list(cells.values())
    return {
        "weeks": [ordered[n : n + 7] for n in range(0, len(ordered), 7)],
        "title": date_format(first, "YEAR_MONTH_FORMAT"),
        "prev_url": _calendar_url("month", _add_months(first, -1)) if first > FIRST_DAY else "",
        "next_url": _calendar_url("month", _add_months(first, 1)) if last < LAST_DAY else "",
        "truncated": truncated,
    }


def _slot_marks(brand: Brand, days: Iterable[date], zone: ZoneInfo) -> dict[tuple[date, int], list[SlotMark]]:
    channels = list(Channel.objects.filter(brand=brand).order_by("network", "handle"))
    handles = {channel.pk: channel.handle for channel in channels}
    per_time: dict[datetime, list[str]] = {}
    for channel_id, slots in slots_by_channel(channels).items():
        for day in days:
            for weekday, at in slots:
                if weekday == day.weekday():
                    per_time.setdefault(slot_instant(zone, day, at), []).append(handles[channel_id])
    marks: dict[tuple[date, int], list[SlotMark]] = {}
    for moment in sorted(per_time):
        local = moment.astimezone(zone)
        marks.setdefault((local.date(), local.hour), []).append(
            SlotMark(label=local.strftime("%H:%M"), handles=sorted(per_time[moment]))
        )
    return marks


def _week(brand: Brand, user: User, day: date, today: date) -> dict[str, Any]:
    zone = brand_zone(brand)
    may_move = mover(user, brand.organization)
    monday = day - timedelta(days=day.weekday())
    days = [monday + timedelta(days=n) for n in range(7)]
    now_local = timezone.now().astimezone(zone)
    rows = [
        HourRow(
            hour=hour,
            cells=[
                HourCell(
                    day=d,
                    hour=hour,
                    is_past=d < today or (d == today and hour < now_local.hour),
                    skipped=_skipped(zone, d, hour),
                )
                for d in days
            ],
        )
        for hour in range(24)
    ]
    cells = {(cell.day, cell.hour): cell for row in rows for cell in row.cells}
    for key, marks in _slot_marks(brand, days, zone).items():
        if key in cells:
            cells[key].slots = marks
    found, truncated = entries(
        brand, _day_start(zone, days[0]), _day_start(zone, days[-1] + timedelta(days=1))
    )
    for entry in found:
        chip = _chip(entry, zone, may_move)
        cell = cells.get((chip.local.date(), chip.local.hour))
        if cell is not None:
            cell.chips.append(chip)
    return {
        "days": [(d, d == today, d < today) for d in days],
        "rows": rows,
        "title": _("Week of %(day)s") % {"day": date_format(days[0], "DATE_FORMAT")},
        "prev_url": _calendar_url("week", days[0] - timedelta(days=7)) if days[0] > FIRST_DAY else "",
        "next_url": _calendar_url("week", days[0] + timedelta(days=7)) if days[-1] < LAST_DAY else "",
        "truncated": truncated,
    }


def zone_label(zone: ZoneInfo, moment: datetime | None = None) -> str:
    """ "Europe/Madrid (UTC+02:00)": the zone's name and its offset now."""
    local = (moment or timezone.now()).astimezone(zone)
    offset = local.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{zone.key} (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"


@require_GET
@section("publish")
def calendar(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    brand = tenant.brand
    view = request.GET.get("view", "month")
    if view not in VIEWS:
        view = "month"
    context: dict[str, Any] = {"section": "publish", "brand": brand, "view": view}
    if brand is not None:
        user = signed_in_user(request)
        zone = brand_zone(brand)
        today = timezone.now().astimezone(zone).date()
        day = _requested_day(request.GET.get("date"), today)
        build = _month if view == "month" else _week
        context.update(build(brand, user, day, today))
        context.update(
            zone=zone.key,
            zone_label=zone_label(zone),
            day=day,
            today_url=_calendar_url(view, today),
            month_url=_calendar_url("month", day),
            week_url=_calendar_url("week", day),
            return_to=request.get_full_path(),
            weekday_names=[WEEKDAYS[n] for n in range(7)],
        )
    return render(request, "web/calendar.html", context)


# --- moving a post -------------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


def _refused(request: HttpRequest, errors: list[str], status: int, fallback: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"ok": False, "messages": errors}, status=status)
    for error in errors:
        messages.error(request, error)
    return _back(request, fallback)


@require_POST
@section("publish", write={Perm.PROPOSE_POSTS, Perm.PUBLISH_POSTS})
def move_post(request: HttpRequest, tenant: Tenant, post_id: int) -> HttpResponse:
    assert tenant.organization is not None
    user = signed_in_user(request)
    post = get_post(user, tenant.organization, post_id)
    if not may_edit(user, post):
        if _wants_json(request):
            return JsonResponse({"ok": False, "messages": [_("You may not edit this post.")]}, status=403)
        raise PermissionDenied
    zone = brand_zone(post.brand)
    fallback = _calendar_url("week", (post.scheduled_at or timezone.now()).astimezone(zone).date())
    form = MoveForm(request.POST, zone=zone)
    if not form.is_valid():
        return _refused(request, [str(e) for errors in form.errors.values() for e in errors], 400, fallback)
    try:
        moved = set_time(Actor.from_request(request), post, form.cleaned_data["when"])
    except ComposeRefused as refused:
        return _refused(request, refused.messages, 400, fallback)
    assert moved.scheduled_at is not None
    local = moved.scheduled_at.astimezone(zone)
    text = _("Moved to %(when)s (%(zone)s).") % {
        "when": date_format(local.replace(tzinfo=None), "DATETIME_FORMAT"),
        "zone": zone.key,
    }
    if _wants_json(request):
        return JsonResponse(
            {
                "ok": True,
                "message": text,
                "when": moved.scheduled_at.isoformat(),
                "local": local.strftime("%Y-%m-%dT%H:%M"),
                "date": local.date().isoformat(),
                "hour": local.hour,
                "time": local.strftime("%H:%M"),
            }
        )
    messages.success(request, text)
    return _back(request, _calendar_url("week", local.date()))


@require_POST
@section("publish", write={Perm.PROPOSE_POSTS, Perm.PUBLISH_POSTS})
def queue_post(request: HttpRequest, tenant: Tenant, post_id: int) -> HttpResponse:
    """Add to queue (a button on the post's page): the post's next free slot."""
    assert tenant.organization is not None
    user = signed_in_user(request)
    post = get_post(user, tenant.organization, post_id)
    if not may_edit(user, post):
        raise PermissionDenied
    try:
        moved = add_to_queue(Actor.from_request(request), post)
    except ComposeRefused as refused:
        for error in refused.messages:
            messages.error(request, error)
    else:
        assert moved.scheduled_at is not None
        zone = brand_zone(moved.brand)
        messages.success(
            request,
            _("Added to the queue: %(when)s (%(zone)s).")
            % {
                "when": date_format(
                    moved.scheduled_at.astimezone(zone).replace(tzinfo=None), "DATETIME_FORMAT"
                ),
                "zone": zone.key,
            },
        )
    return redirect("web:post-detail", post.pk)


# --- queue slots ---------------------------------------------------------------------------------


@dataclass
class SlotRow:
    day: str  # a choice of day_choices()
    time: str  # "09:30"


@dataclass
class ChannelQueue:
    channel: Channel
    slots: list[Slot]
    can_edit: bool
    rows: list[SlotRow]
    errors: list[str] = field(default_factory=list)
    # Other channels of the brand the person may also give these slots to.
    others: list[Channel] = field(default_factory=list)

    @property
    def by_day(self) -> list[tuple[str, list[str]]]:
        days: dict[int, list[str]] = {}
        for weekday, at in self.slots:
            days.setdefault(weekday, []).append(at.strftime("%H:%M"))
        return [(str(WEEKDAYS[weekday]), times) for weekday, times in sorted(days.items())]


def _ids(values: Iterable[str]) -> list[int]:
    return [int(raw) for raw in list(values)[:MAX_ROWS] if raw.isascii() and raw.isdigit() and len(raw) < 19]


def _rows(slots: Iterable[Slot]) -> list[SlotRow]:
    rows = [SlotRow(day=str(weekday), time=at.strftime("%H:%M")) for weekday, at in slots]
    return rows + [SlotRow(day="", time="") for _n in range(EMPTY_ROWS)]


def _queues(brand: Brand, user: User) -> list[ChannelQueue]:
    channels = list(
        Channel.objects.filter(brand=brand).select_related("organization").order_by("network", "handle")
    )
    slots = slots_by_channel(channels)
    queues = [
        ChannelQueue(
            channel=channel,
            slots=slots[channel.pk],
            can_edit=may_set_slots(user, channel),
            rows=_rows(slots[channel.pk]),
        )
        for channel in channels
    ]
    editable = [item.channel for item in queues if item.can_edit]
    for item in queues:
        item.others = [channel for channel in editable if channel.pk != item.channel.pk]
    return queues


def _queue_page(
    request: HttpRequest, tenant: Tenant, queues: list[ChannelQueue], status: int = 200
) -> HttpResponse:
    brand = tenant.brand
    zone = brand_zone(brand) if brand is not None else None
    return render(
        request,
        "web/queue_slots.html",
        {
            "section": "publish",
            "brand": brand,
            "queues": queues,
            "day_choices": day_choices(),
            "zone_label": zone_label(zone) if zone is not None else "",
            "any_editable": any(q.can_edit for q in queues),
        },
        status=status,
    )


@require_GET
@section("publish")
def queue_slots(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    brand = tenant.brand
    queues = _queues(brand, signed_in_user(request)) if brand is not None else []
    return _queue_page(request, tenant, queues)


@require_POST
@section("publish", write={Perm.MANAGE_PUBLISHING, Perm.PUBLISH_POSTS})
def save_queue_slots(request: HttpRequest, tenant: Tenant, channel_id: int) -> HttpResponse:
    brand = tenant.brand
    user = signed_in_user(request)
    channel = get_object_or_404(
        tenant.restrict(Channel.objects.select_related("organization")), pk=channel_id
    )
    if not may_set_slots(user, channel):
        raise PermissionDenied
    slots, errors = parse_slot_rows(request.POST.getlist("day"), request.POST.getlist("time"))
    # "Also apply to": other channels of the same brand this person may set.
    others = [
        other
        for other in Channel.objects.filter(
            pk__in=_ids(request.POST.getlist("also")), brand_id=channel.brand_id
        )
        .exclude(pk=channel.pk)
        .select_related("organization")
        if may_set_slots(user, other)
    ]
    if not errors:
        try:
            # All of them or none: a refusal on the last channel leaves the first as it was.
            with transaction.atomic():
                for target in (channel, *others):
                    set_slots(Actor.from_request(request), target, slots)
        except ComposeRefused as refused:
            errors = refused.messages
    if errors:
        queues = _queues(brand, user) if brand is not None and channel.brand_id == brand.pk else []
        typed = zip(request.POST.getlist("day"), request.POST.getlist("time"), strict=False)
        for item in queues:
            if item.channel.pk == channel.pk:
                item.errors = errors
                item.rows = [SlotRow(day=day, time=at) for day, at in typed][:MAX_ROWS]
                item.rows.append(SlotRow(day="", time=""))
        if not queues:
            for error in errors:
                messages.error(request, error)
            return redirect("web:queue")
        return _queue_page(request, tenant, queues, status=400)
    names = ", ".join(f"@{c.handle}" for c in (channel, *others))
    messages.success(request, _("Queue saved for %(channels)s.") % {"channels": names})
    return redirect(f"{reverse('web:queue')}#channel-{channel.pk}")
