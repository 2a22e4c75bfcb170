"""Crisis mode: one audited switch per brand, or for the whole organization, and what the crisis room
does while it is on (roles, the playbook's checklist, notes).

`start_crisis` turns it on, all in one transaction:

- publishing is paused in crisis mode (tertulia.publishing.actions.pauses.pause(..., crisis=True)):
  nothing scheduled goes out (a delivery already claimed is stopped at the instant before its network
  call), and new posts go through the brand's crisis approval workflow;
- replies from the inbox by people who are not crisis approvers wait for one (tertulia.crisis.approval,
  held by the guard with `HoldCause.CRISIS`);
- the playbook's steps become the crisis's checklist (the chosen playbook, else the brand's default);
- its approved holding statements are pinned first in the inbox's saved replies while the crisis
  lasts (`pinned_statements`, read by tertulia.inbox.saved_replies: nothing is copied, so nothing is
  left behind when it ends);
- the timeline gets its first entries, the alert that led here is acknowledged, the audit trail and
  the organization's webhooks (`crisis.started`) are told.

One active crisis per scope: the database's constraints decide between two people pressing at the
same moment, and both get the same crisis. `end_crisis` resumes publishing (or keeps it paused, on
purpose, without crisis mode), unpins, closes, and has the post-incident report written
(tertulia.crisis.report.write_report, when present).

Who may do what (docs/crisis-mode.md): starting and ending need `Perm.MANAGE_PUBLISHING` in the
brand (in every brand for the whole organization); assigning roles, that or being the crisis's lead;
ticking the checklist and writing notes, `Perm.OPERATE_CHANNELS` or `Perm.MANAGE_PUBLISHING` in the
brand, or any crisis role in it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia import webhooks
from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Membership, Organization, User
from tertulia.core.permissions import Perm, covers_all_brands, has_perm
from tertulia.crisis.models import (
    Alert,
    AlertState,
    ChecklistItem,
    Crisis,
    CrisisRole,
    CrisisRoleKind,
    CrisisState,
    HoldingStatement,
    Playbook,
    TimelineEntry,
    TimelineKind,
)
from tertulia.live.publish import notify_organization
from tertulia.publishing.actions import pauses
from tertulia.publishing.models import Pause

logger = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_NOTE = 1000
MAX_STEP_NOTE = 500
TIMELINE_TEXT = 1000
LIVE_TOPIC = "crisis"


class CrisisRefused(ValueError):
    """Crisis mode cannot do this as asked; the message says why, in the person's language."""


class NotPermitted(CrisisRefused):
    pass


# --- who may ----------------------------------------------------------------------------------------


def may_run(user: User | None, organization: Organization, brand: Brand | None) -> bool:
    """Start or end crisis mode for `brand` (None: the whole organization, which needs every brand)."""
    if user is None:
        return True  # Tertulia itself (a rehearsal, the command line): trusted code
    if not has_perm(user, organization, Perm.MANAGE_PUBLISHING, brand):
        return False
    return brand is not None or covers_all_brands(user, organization)


def may_view(user: User, crisis: Crisis) -> bool:
    return has_perm(user, crisis.organization, Perm.VIEW, crisis.brand)


def _has_role(user: User, crisis: Crisis, role: str | None = None) -> bool:
    found = CrisisRole.objects.filter(crisis=crisis, user=user)
    return (found.filter(role=role) if role else found).exists()


def may_work(user: User | None, crisis: Crisis) -> bool:
    """Tick the checklist and write notes."""
    if user is None:
        return True
    if not may_view(user, crisis):
        return False
    return (
        has_perm(user, crisis.organization, Perm.OPERATE_CHANNELS, crisis.brand)
        or has_perm(user, crisis.organization, Perm.MANAGE_PUBLISHING, crisis.brand)
        or _has_role(user, crisis)
    )


def may_assign(user: User | None, crisis: Crisis) -> bool:
    """Give and take crisis roles: whoever may run crisis mode here, or the crisis's lead."""
    if user is None:
        return True
    if not may_view(user, crisis):
        return False
    return may_run(user, crisis.organization, crisis.brand) or _has_role(user, crisis, CrisisRoleKind.LEAD)


def _refuse_unless(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotPermitted(message)


def _still_active(crisis: Crisis) -> Crisis:
    locked = (
        Crisis.objects.select_for_update(of=("self",))
        .select_related("organization", "brand")
        .get(pk=crisis.pk)
    )
    if locked.state != CrisisState.ACTIVE:
        raise CrisisRefused(_("This crisis is closed."))
    return locked


# --- reading ---------------------------------------------------------------------------------------


def active_crisis(organization: Organization, brand: Brand | None) -> Crisis | None:
    """The active crisis of exactly this scope (a brand's own, or the organization-wide one)."""
    return Crisis.objects.filter(organization=organization, brand=brand, state=CrisisState.ACTIVE).first()


def active_crises_for(brand: Brand) -> QuerySet[Crisis]:
    """The crises the brand is in now: its own and its organization's."""
    return Crisis.objects.filter(organization_id=brand.organization_id, state=CrisisState.ACTIVE).filter(
        Q(brand=brand) | Q(brand__isnull=True)
    )


def default_playbook(brand: Brand) -> Playbook | None:
    return Playbook.objects.filter(brand=brand, is_default=True).first()


def _statements_playbook(crisis: Crisis, brand: Brand) -> Playbook | None:
    """The crisis's playbook where it is the brand's own; otherwise the brand's default one."""
    if crisis.playbook_id is not None:
        chosen = Playbook.objects.filter(pk=crisis.playbook_id, brand=brand).first()
        if chosen is not None:
            return chosen
    return default_playbook(brand)


def pinned_statements(brand: Brand) -> list[HoldingStatement]:
    """The approved holding statements pinned in the brand's saved replies now: empty outside a crisis."""
    found: list[HoldingStatement] = []
    seen: set[int] = set()
    for crisis in sorted(active_crises_for(brand), key=lambda c: c.brand_id is None):
        playbook = _statements_playbook(crisis, brand)
        if playbook is None or playbook.pk in seen:
            continue
        seen.add(playbook.pk)
        found += list(
            HoldingStatement.objects.filter(playbook=playbook, approved_at__isnull=False).order_by(
                "shortcut", "language"
            )
        )
    return found


def crisis_path(crisis: Crisis) -> str:
    return reverse("web:crisis-room", args=[crisis.pk])


# --- the timeline ------------------------------------------------------------------------------------


def add_entry(crisis: Crisis, kind: str, text: str, user: User | None = None) -> TimelineEntry:
    """One line of the timeline (also for the other crisis parts: alerts, playbooks, the report)."""
    return TimelineEntry.objects.create(
        crisis=crisis, at=timezone.now(), kind=kind, text=text[:TIMELINE_TEXT], actor=user
    )


def _scope_label(crisis: Crisis) -> str:
    return crisis.brand.name if crisis.brand is not None else _("every brand")


def _payload(crisis: Crisis, summary: str) -> dict[str, Any]:
    from tertulia.crisis.escalation import public_url  # the same base as the alerts' links

    return {
        "summary": summary,
        "url": public_url() + crisis_path(crisis),
        "crisis": {
            "id": crisis.pk,
            "title": crisis.title,
            "brand_id": crisis.brand_id,
            "state": crisis.state,
            "is_rehearsal": crisis.is_rehearsal,
            "opened_at": crisis.opened_at.isoformat(),
            "closed_at": crisis.closed_at.isoformat() if crisis.closed_at else None,
            "alert_id": crisis.alert_id,
        },
    }


def _emit(crisis: Crisis, event: str, summary: str) -> None:
    try:
        webhooks.emit(crisis.organization, event, _payload(crisis, summary))
    except ValueError:
        # Not registered (the app's ready() registers both): the switch itself must not fail for it.
        logger.warning("webhook event %s is not registered", event)


# --- the switch ---------------------------------------------------------------------------------------


def _clean_title(title: str) -> str:
    title = (title or "").replace("\x00", "").strip()
    if not title:
        raise CrisisRefused(_("Say in a few words what is happening."))
    if len(title) > MAX_TITLE:
        raise CrisisRefused(_("The title has at most %(n)d characters.") % {"n": MAX_TITLE})
    return title


def _check_scope(
    organization: Organization, brand: Brand | None, alert: Alert | None, playbook: Playbook | None
) -> None:
    if brand is not None and brand.organization_id != organization.pk:
        raise CrisisRefused(_("That brand is not in this organization."))
    if playbook is not None:
        if playbook.organization_id != organization.pk:
            raise CrisisRefused(_("That playbook is not in this organization."))
        if brand is not None and playbook.brand_id != brand.pk:
            raise CrisisRefused(_("That playbook belongs to another brand."))
    if alert is not None:
        if alert.organization_id != organization.pk:
            raise CrisisRefused(_("That alert is not in this organization."))
        if brand is not None and alert.brand_id != brand.pk:
            raise CrisisRefused(_("That alert is about another brand."))


def start_crisis(
    actor: Actor,
    organization: Organization,
    brand: Brand | None,
    title: str,
    *,
    alert: Alert | None = None,
    playbook: Playbook | None = None,
    rehearsal: bool = False,
) -> Crisis:
    """Turn crisis mode on for `brand` (None: every brand). The scope's active crisis if it has one."""
    _refuse_unless(
        may_run(actor.user, organization, brand),
        _("You may not start crisis mode for every brand.")
        if brand is None
        else _("You may not start crisis mode for this brand."),
    )
    title = _clean_title(title)
    _check_scope(organization, brand, alert, playbook)
    with transaction.atomic():
        existing = active_crisis(organization, brand)
        if existing is not None:
            return existing
        if playbook is None and brand is not None:
            # The team's default, or one written from seed 001 so the checklist is never empty.
            from tertulia.crisis.playbooks import default_playbook as written_default

            playbook = written_default(brand, actor)
        predates = Pause.objects.filter(organization=organization, brand=brand, ended_at__isnull=True)
        pause_predates = predates.exists()
        try:
            paused = pauses.pause(actor, organization, brand, reason=title[: pauses.MAX_REASON], crisis=True)
        except pauses.PauseRefused as refused:
            raise NotPermitted(str(refused)) from None
        try:
            with transaction.atomic():
                crisis = Crisis.objects.create(
                    organization=organization,
                    brand=brand,
                    title=title,
                    alert=alert,
                    playbook=playbook,
                    pause=paused,
                    pause_predates=pause_predates,
                    is_rehearsal=rehearsal or bool(alert is not None and alert.is_rehearsal),
                    opened_by=actor.user,
                    opened_at=timezone.now(),
                )
        except IntegrityError:
            # Someone turned it on for the same scope at this very moment (the constraints): theirs stands.
            return Crisis.objects.get(organization=organization, brand=brand, state=CrisisState.ACTIVE)
        _opened(actor, crisis, paused)
    return crisis


def _opened(actor: Actor, crisis: Crisis, paused: Pause) -> None:
    user = actor.user
    scope = _scope_label(crisis)
    add_entry(
        crisis,
        TimelineKind.OPENED,
        _("Crisis mode on for %(scope)s: %(title)s")
        % {
            "scope": scope,
            "title": crisis.title,
        },
        user,
    )
    if crisis.alert is not None:
        add_entry(
            crisis,
            TimelineKind.ALERT,
            _("Started from the alert: %(title)s") % {"title": crisis.alert.title},
            user,
        )
        _acknowledge(actor, crisis.alert)
    held_now = pauses.held(crisis.organization, crisis.brand).count()
    add_entry(
        crisis,
        TimelineKind.PUBLISHING,
        _(
            "Publishing paused for %(scope)s (%(held)d deliveries already due are held); new posts go "
            "through the crisis approval workflow."
        )
        % {"scope": scope, "held": held_now},
        user,
    )
    steps = _copy_checklist(crisis)
    if crisis.playbook is not None:
        add_entry(
            crisis,
            TimelineKind.STEP,
            _("Playbook “%(name)s”: %(n)d steps on the checklist.")
            % {"name": crisis.playbook.name, "n": steps},
            user,
        )
    pinned = _pinned_shortcuts(crisis)
    if pinned:
        text = _("Holding statements pinned in the inbox's saved replies: %(list)s") % {
            "list": ", ".join(f"/{shortcut}" for shortcut in pinned)
        }
    else:
        text = _("No approved holding statement to pin in the inbox.")
    add_entry(crisis, TimelineKind.INBOX, text, user)
    add_entry(
        crisis,
        TimelineKind.INBOX,
        _("Replies by people who are not crisis approvers now wait for one."),
        user,
    )
    if user is not None:
        CrisisRole.objects.get_or_create(crisis=crisis, user=user, role=CrisisRoleKind.LEAD)
        add_entry(
            crisis,
            TimelineKind.ROLE,
            _("%(person)s leads the response.") % {"person": user.get_short_name()},
            user,
        )
    record(
        actor,
        crisis.organization,
        "crisis.started",
        crisis,
        {
            "title": [None, crisis.title],
            "brand": [None, crisis.brand.name if crisis.brand else "*"],
            "playbook": [None, crisis.playbook.name if crisis.playbook else None],
            "alert": [None, crisis.alert_id],
            "pause": [None, paused.pk],
            "rehearsal": [None, crisis.is_rehearsal],
        },
    )
    _emit(
        crisis,
        "crisis.started",
        _("Crisis mode is on for %(scope)s: %(title)s. Publishing is paused.")
        % {"scope": scope, "title": crisis.title},
    )
    notify_organization(crisis.organization_id, LIVE_TOPIC)


def _acknowledge(actor: Actor, alert: Alert) -> None:
    if alert.state != AlertState.OPEN:
        return
    from tertulia.crisis import alerts

    try:
        with transaction.atomic():
            alerts.acknowledge(actor, alert)
        return
    except ValueError:
        # Their own rules refused (say, a system actor): crisis mode starting is acknowledgement enough.
        logger.info("alert %s could not be acknowledged by its own action", alert.pk, exc_info=True)
    Alert.objects.filter(pk=alert.pk, state=AlertState.OPEN).update(
        state=AlertState.ACKNOWLEDGED,
        acknowledged_by=actor.user,
        acknowledged_at=timezone.now(),
        next_escalation_at=None,
    )


def _copy_checklist(crisis: Crisis) -> int:
    if crisis.playbook is None:
        return 0
    items = [
        ChecklistItem(
            crisis=crisis,
            position=n,
            title=step.title[:200],
            details=step.details[:4000],
            role=step.role[:16],
        )
        for n, step in enumerate(crisis.playbook.steps.order_by("position", "id"), start=1)
    ]
    ChecklistItem.objects.bulk_create(items)
    return len(items)


def _pinned_shortcuts(crisis: Crisis) -> list[str]:
    brands = (
        [crisis.brand]
        if crisis.brand is not None
        else list(Brand.objects.filter(organization_id=crisis.organization_id, is_archived=False))
    )
    shortcuts: list[str] = []
    for brand in brands:
        playbook = _statements_playbook(crisis, brand)
        if playbook is None:
            continue
        for shortcut in HoldingStatement.objects.filter(
            playbook=playbook, approved_at__isnull=False
        ).values_list("shortcut", flat=True):
            if shortcut not in shortcuts:
                shortcuts.append(shortcut)
    return shortcuts


def end_crisis(actor: Actor, crisis: Crisis, *, resume_publishing: bool = True) -> Crisis:
    """Turn crisis mode off: publishing resumes (held posts go out at once) or stays paused on purpose
    without crisis mode; the statements are unpinned; the report is written."""
    _refuse_unless(may_run(actor.user, crisis.organization, crisis.brand), _("You may not end this crisis."))
    with transaction.atomic():
        crisis = _still_active(crisis)
        user = actor.user
        scope = _scope_label(crisis)
        paused = (
            Pause.objects.select_for_update().filter(pk=crisis.pause_id or 0, ended_at__isnull=True).first()
        )
        if paused is None:
            text = _("Publishing had already resumed.")
        elif resume_publishing and crisis.pause_predates:
            pauses.leave_crisis_mode(actor, paused)
            text = _(
                "Publishing stays paused for %(scope)s: it was paused before the crisis began. Resume it in "
                "the publishing settings when that reason is over."
            ) % {"scope": scope}
        elif resume_publishing:
            held_now = pauses.held(crisis.organization, crisis.brand).count()
            try:
                pauses.resume(actor, paused)
            except pauses.PauseRefused as refused:
                raise NotPermitted(str(refused)) from None
            text = _("Publishing resumed for %(scope)s: %(held)d held deliveries go out now.") % {
                "scope": scope,
                "held": held_now,
            }
        else:
            pauses.leave_crisis_mode(actor, paused)
            text = _("Publishing stays paused for %(scope)s, on purpose; crisis mode is off.") % {
                "scope": scope
            }
        add_entry(crisis, TimelineKind.PUBLISHING, text, user)
        add_entry(crisis, TimelineKind.INBOX, _("Holding statements unpinned from the inbox."), user)
        crisis.state = CrisisState.CLOSED
        crisis.closed_by = user
        crisis.closed_at = timezone.now()
        crisis.save(update_fields=["state", "closed_by", "closed_at"])
        add_entry(crisis, TimelineKind.CLOSED, _("Crisis mode off for %(scope)s.") % {"scope": scope}, user)
        record(
            actor,
            crisis.organization,
            "crisis.ended",
            crisis,
            {
                "state": [CrisisState.ACTIVE, CrisisState.CLOSED],
                "publishing": [
                    None,
                    "resumed"
                    if resume_publishing and paused is not None and not crisis.pause_predates
                    else "paused",
                ],
            },
        )
        _write_report(crisis)
        _emit(
            crisis,
            "crisis.ended",
            _("Crisis mode is off for %(scope)s: %(title)s.") % {"scope": scope, "title": crisis.title},
        )
        notify_organization(crisis.organization_id, LIVE_TOPIC)
    return crisis


def _write_report(crisis: Crisis) -> None:
    from tertulia.crisis.report import write_report  # report reads the crisis models and mode's rules

    try:
        with transaction.atomic():
            write_report(crisis)
    except Exception:  # the close stands even if the report could not be written: it can be redone
        logger.exception("the report of crisis %s could not be written", crisis.pk)


# --- roles -----------------------------------------------------------------------------------------------


def _role_label(role: str) -> str:
    return str(CrisisRoleKind(role).label)


def assign_role(actor: Actor, crisis: Crisis, user: User, role: str) -> CrisisRole:
    _refuse_unless(may_assign(actor.user, crisis), _("You may not give roles in this crisis."))
    if role not in CrisisRoleKind.values:
        raise CrisisRefused(_("Choose one of the crisis roles."))
    with transaction.atomic():
        crisis = _still_active(crisis)
        member = Membership.objects.filter(
            organization_id=crisis.organization_id, user=user, is_active=True, user__is_active=True
        ).first()
        if member is None or not may_view(user, crisis):
            raise CrisisRefused(_("That person does not work in this brand."))
        found, created = CrisisRole.objects.get_or_create(crisis=crisis, user=user, role=role)
        if created:
            add_entry(
                crisis,
                TimelineKind.ROLE,
                _("%(person)s: %(role)s.") % {"person": user.get_short_name(), "role": _role_label(role)},
                actor.user,
            )
            record(
                actor,
                crisis.organization,
                "crisis.role_assigned",
                crisis,
                {
                    "user": [None, user.email],
                    "role": [None, role],
                },
            )
            notify_organization(crisis.organization_id, LIVE_TOPIC)
    return found


def unassign_role(actor: Actor, crisis: Crisis, user: User, role: str) -> bool:
    _refuse_unless(may_assign(actor.user, crisis), _("You may not give roles in this crisis."))
    with transaction.atomic():
        crisis = _still_active(crisis)
        deleted, _rows = CrisisRole.objects.filter(crisis=crisis, user=user, role=role).delete()
        if deleted:
            add_entry(
                crisis,
                TimelineKind.ROLE,
                _("%(person)s no longer: %(role)s.")
                % {"person": user.get_short_name(), "role": _role_label(role)},
                actor.user,
            )
            record(
                actor,
                crisis.organization,
                "crisis.role_removed",
                crisis,
                {
                    "user": [user.email, None],
                    "role": [role, None],
                },
            )
            notify_organization(crisis.organization_id, LIVE_TOPIC)
    return bool(deleted)


# --- the checklist and notes ---------------------------------------------------------------------


def tick(actor: Actor, item: ChecklistItem, *, done: bool = True, note: str = "") -> ChecklistItem:
    """Mark a step done (who and when are kept from the first tick) or not done any more."""
    note = (note or "").replace("\x00", "").strip()
    if len(note) > MAX_STEP_NOTE:
        raise CrisisRefused(_("A note has at most %(n)d characters.") % {"n": MAX_STEP_NOTE})
    crisis = item.crisis
    _refuse_unless(may_work(actor.user, crisis), _("You may not work on this crisis's checklist."))
    with transaction.atomic():
        crisis = _still_active(crisis)
        item = ChecklistItem.objects.select_for_update().get(pk=item.pk, crisis=crisis)
        changed = (item.done_at is None) == done
        if changed:
            item.done_by = actor.user if done else None
            item.done_at = timezone.now() if done else None
        if note:
            item.note = note
        if not changed and not note:
            return item
        item.save(update_fields=["done_by", "done_at", "note"])
        if changed:
            text = (_("Done: %(step)s") if done else _("Not done any more: %(step)s")) % {"step": item.title}
            if note:
                text = f"{text} — {note}"
            add_entry(crisis, TimelineKind.STEP, text, actor.user)
            record(
                actor,
                crisis.organization,
                "crisis.step_done" if done else "crisis.step_undone",
                crisis,
                {"step": [None, item.title], "done": [not done, done]},
            )
        notify_organization(crisis.organization_id, LIVE_TOPIC)
    return item


def add_note(actor: Actor, crisis: Crisis, text: str) -> TimelineEntry:
    text = (text or "").replace("\x00", "").strip()
    if not text:
        raise CrisisRefused(_("A note cannot be empty."))
    if len(text) > MAX_NOTE:
        raise CrisisRefused(_("A note has at most %(n)d characters.") % {"n": MAX_NOTE})
    _refuse_unless(may_work(actor.user, crisis), _("You may not write in this crisis's timeline."))
    with transaction.atomic():
        crisis = _still_active(crisis)
        entry = add_entry(crisis, TimelineKind.NOTE, text, actor.user)
        record(actor, crisis.organization, "crisis.note", crisis, {"note": [None, entry.pk]})
        notify_organization(crisis.organization_id, LIVE_TOPIC)
    return entry
