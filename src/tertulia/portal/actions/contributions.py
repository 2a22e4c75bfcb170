"""Proposing content and flagging conversations; the social team's triage (docs/contributor-portal.md).

Every change and its audit entry are written in one transaction. Text is stored verbatim and rendered
escaped; links must be http(s) addresses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, User
from tertulia.core.preview import preview
from tertulia.inbox.models import Conversation, NotificationKind
from tertulia.portal.access import may_contribute, may_triage, team_of
from tertulia.portal.models import (
    MAX_LINK,
    MAX_REPLY,
    MAX_TEXT,
    MAX_WHY,
    Contribution,
    ContributionKind,
    ContributionStatus,
    Urgency,
)

# Per person and organization, in any 24 hours: enough for anyone with ideas, not for a script.
DAILY_LIMIT = 30
# The urgent-flag notification quotes this much of the text; the whole stays in the portal queue.
FLAG_PREVIEW_CHARS = 300
# Status notices quote this much of the contribution.
QUOTE_CHARS = 80
# How the contributor hears back, and how the team hears of an urgent flag.
UPDATE_KIND = NotificationKind.CONTRIBUTION
URGENT_KIND = NotificationKind.FLAGGED
_INBOX_PATH = re.compile(r"^/inbox/c/(\d+)/?$")
# Whitespace and control characters: an address has none (an internal host without a dot is fine).
_SPACE = re.compile(r"[\s\x00-\x1f\x7f]")


class ContributionRefused(ValueError):
    """The contribution or the decision cannot be recorded; `messages` say why, in the person's language."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__(" ".join(messages))


@dataclass(frozen=True)
class ContributionIn:
    kind: str
    text: str
    link: str = ""
    why: str = ""
    suggested_date: date | None = None
    urgency: str = Urgency.NORMAL


def clean_link(link: str) -> str:
    """An http(s) address, or "" (no link). Anything else (javascript:, data:, relative) is refused."""
    link = link.strip()
    if not link:
        return ""
    if len(link) > MAX_LINK:
        raise ContributionRefused([_("The link has at most %(n)d characters.") % {"n": MAX_LINK}])
    refused = ContributionRefused([_("The link must be a web address starting with http:// or https://.")])
    if _SPACE.search(link):
        raise refused
    try:
        parts = urlsplit(link)
        host = parts.hostname
    except ValueError:  # a malformed port or address
        raise refused from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise refused
    return link


def _check(brand: Brand, given: ContributionIn) -> list[str]:
    errors: list[str] = []
    if given.kind not in ContributionKind.values:
        errors.append(_("Choose what you are sending: an idea or a conversation."))
    if not given.text.strip():
        errors.append(
            _("Say what the idea is.") if given.kind == ContributionKind.IDEA else _("Say what is going on.")
        )
    if len(given.text) > MAX_TEXT:
        errors.append(_("The text has at most %(n)d characters.") % {"n": MAX_TEXT})
    if "\x00" in given.text or "\x00" in given.why:
        errors.append(_("The text contains a NUL character."))
    if len(given.why) > MAX_WHY:
        errors.append(_("“Why it matters” has at most %(n)d characters.") % {"n": MAX_WHY})
    if given.urgency not in Urgency.values:
        errors.append(_("Choose how urgent it is from the list."))
    if given.kind == ContributionKind.FLAG and not given.link.strip():
        errors.append(_("Paste the link to the post or conversation."))
    if given.suggested_date is not None and given.suggested_date < timezone.localdate():
        errors.append(_("The suggested date has passed."))
    return errors


def _inbox_conversation(brand: Brand, link: str) -> Conversation | None:
    """The brand's inbox conversation a pasted Tertulia link points at, if it is one."""
    found = _INBOX_PATH.match(urlsplit(link).path) if link else None
    if found is None:
        return None
    return Conversation.objects.filter(brand=brand, pk=int(found.group(1))).first()


def sent_today(user: User, brand: Brand) -> int:
    since = timezone.now() - timedelta(days=1)
    return Contribution.objects.filter(
        organization_id=brand.organization_id, author=user, created_at__gte=since
    ).count()


def queue_path(contribution: Contribution) -> str:
    return f"{reverse('web:contribute-queue')}#contribution-{contribution.pk}"


def mine_path(contribution: Contribution) -> str:
    return f"{reverse('web:contribute')}#contribution-{contribution.pk}"


@transaction.atomic
def propose(
    actor: Actor,
    brand: Brand,
    given: ContributionIn,
    *,
    image_data: bytes | None = None,
    image_name: str = "",
    image_type: str = "",
) -> Contribution:
    """Send an idea or flag a conversation to the brand's social team."""
    user = actor.user
    if user is None or not may_contribute(user, brand):
        raise ContributionRefused([_("You may not send contributions for this brand.")])
    errors = _check(brand, given)
    link = ""
    try:
        link = clean_link(given.link)
    except ContributionRefused as refused:
        errors.extend(refused.messages)
    if errors:
        raise ContributionRefused(list(dict.fromkeys(errors)))
    if sent_today(user, brand) >= DAILY_LIMIT:
        raise ContributionRefused(
            [
                _(
                    "You have sent %(n)d contributions in the last 24 hours, the most there can be. "
                    "Thank you! Try again tomorrow, or talk to the social team directly."
                )
                % {"n": DAILY_LIMIT}
            ]
        )
    image = None
    if image_data is not None and given.kind == ContributionKind.IDEA:
        from tertulia.publishing.actions.media import MediaRefused, upload_image

        try:
            image, _new = upload_image(actor, brand, image_data, image_name, image_type)
        except MediaRefused as refused:
            raise ContributionRefused([str(refused)]) from None
    contribution = Contribution(
        organization=brand.organization,
        brand=brand,
        kind=given.kind,
        author=user,
        text=given.text,
        link=link,
        why=given.why.strip(),
        suggested_date=given.suggested_date if given.kind == ContributionKind.IDEA else None,
        urgency=given.urgency,
        conversation=_inbox_conversation(brand, link),
        image=image,
    )
    contribution.full_clean()
    contribution.save()
    record(
        actor,
        brand.organization,
        "contribution.created",
        contribution,
        {"kind": [None, contribution.kind], "urgency": [None, contribution.urgency]},
    )
    if contribution.kind == ContributionKind.FLAG and contribution.urgency == Urgency.URGENT:
        from tertulia.inbox.notifications import notify_people

        notify_people(
            brand.organization_id,
            team_of(brand),
            URGENT_KIND,
            _("Urgent conversation flagged by %(name)s (%(brand)s): %(text)s")
            % {
                "name": str(user),
                "brand": brand.name,
                "text": preview(contribution.text, FLAG_PREVIEW_CHARS),
            },
            url=queue_path(contribution),
            skip=user,
        )
    return contribution


def _lock(contribution: Contribution) -> Contribution:
    return (
        Contribution.objects.select_for_update(of=("self",))
        .select_related("brand", "author")
        .get(pk=contribution.pk)
    )


def _tell_author(contribution: Contribution, decided_by: User, text: str) -> None:
    from tertulia.inbox.notifications import notify_people

    notify_people(
        contribution.organization_id,
        [contribution.author],
        UPDATE_KIND,
        text,
        url=mine_path(contribution),
        skip=decided_by,
    )


def _status_text(contribution: Contribution) -> str:
    what = preview(contribution.text, QUOTE_CHARS)
    if contribution.status == ContributionStatus.ACCEPTED:
        message = _("The social team accepted your contribution “%(text)s”.")
    elif contribution.status == ContributionStatus.DECLINED:
        message = _("The social team declined your contribution “%(text)s”.")
    elif contribution.status == ContributionStatus.DONE:
        message = _("The social team has done what you sent: “%(text)s”.")
    else:
        message = _("Your contribution “%(text)s” is waiting for the social team again.")
    text = message % {"text": what}
    if contribution.reply:
        text = f"{text} {contribution.reply}"
    return text


def _decider(actor: Actor, contribution: Contribution) -> User:
    user = actor.user
    if user is None or not may_triage(user, contribution.brand):
        raise ContributionRefused([_("Only the brand's social team can answer contributions.")])
    return user


def _clean_reply(reply: str) -> str:
    reply = reply.strip()
    if len(reply) > MAX_REPLY:
        raise ContributionRefused([_("The reply has at most %(n)d characters.") % {"n": MAX_REPLY}])
    if "\x00" in reply:
        raise ContributionRefused([_("The text contains a NUL character.")])
    return reply


@transaction.atomic
def decide(actor: Actor, contribution: Contribution, status: str, reply: str = "") -> Contribution:
    """Accept, decline (a reason is required), mark done or reopen; the contributor is notified."""
    contribution = _lock(contribution)
    user = _decider(actor, contribution)
    if status not in ContributionStatus.values:
        raise ContributionRefused([_("Choose a status from the list.")])
    reply = _clean_reply(reply)
    if status == ContributionStatus.DECLINED and not reply:
        raise ContributionRefused([_("Say why it is declined: the person who sent it will read it.")])
    before = {"status": contribution.status, "reply": contribution.reply}
    if status == contribution.status and (not reply or reply == contribution.reply):
        return contribution
    contribution.status = status
    if reply:
        contribution.reply = reply
    contribution.decided_by = user
    contribution.decided_at = timezone.now()
    contribution.full_clean()
    contribution.save()
    record(
        actor,
        contribution.organization,
        "contribution.decided",
        contribution,
        {
            "status": [before["status"], contribution.status],
            **({"reply": [before["reply"], contribution.reply]} if reply else {}),
        },
    )
    _tell_author(contribution, user, _status_text(contribution))
    return contribution


@transaction.atomic
def answer(actor: Actor, contribution: Contribution, reply: str) -> Contribution:
    """Write to the contributor without changing the status."""
    contribution = _lock(contribution)
    user = _decider(actor, contribution)
    reply = _clean_reply(reply)
    if not reply:
        raise ContributionRefused([_("Write a reply first.")])
    before = contribution.reply
    contribution.reply = reply
    contribution.decided_by = user
    contribution.save(update_fields=["reply", "decided_by", "updated_at"])
    record(actor, contribution.organization, "contribution.replied", contribution, {"reply": [before, reply]})
    _tell_author(
        contribution,
        user,
        _("The social team replied about “%(text)s”: %(reply)s")
        % {"text": preview(contribution.text, QUOTE_CHARS), "reply": reply},
    )
    return contribution


@transaction.atomic
def make_draft(actor: Actor, contribution: Contribution) -> Contribution:
    """Turn an idea into a draft post of its brand (the composer's `create_post`), linked both ways:
    the idea keeps the post, and the post's internal title names the idea."""
    from tertulia.publishing.actions.compose import ComposeRefused, DraftSpec, create_post

    contribution = _lock(contribution)
    user = _decider(actor, contribution)
    if contribution.kind != ContributionKind.IDEA:
        raise ContributionRefused([_("Only an idea for a post can become a draft.")])
    if contribution.post_id is not None:
        raise ContributionRefused([_("This idea is a draft post already.")])
    author = str(contribution.author) if contribution.author else _("someone who left")
    title = _("Idea #%(n)d from %(name)s") % {"n": contribution.pk, "name": author}
    try:
        post = create_post(
            actor,
            contribution.brand,
            DraftSpec(
                text=contribution.text,
                title=preview(title, 200),
                media=[contribution.image_id] if contribution.image_id else [],
            ),
        )
    except ComposeRefused as refused:
        raise ContributionRefused(refused.messages) from None
    before = contribution.status
    contribution.post = post
    if contribution.status in (ContributionStatus.NEW, ContributionStatus.DECLINED):
        contribution.status = ContributionStatus.ACCEPTED
    contribution.decided_by = user
    contribution.decided_at = timezone.now()
    contribution.save()
    record(
        actor,
        contribution.organization,
        "contribution.drafted",
        contribution,
        {"post": [None, post.pk], "status": [before, contribution.status]},
    )
    _tell_author(
        contribution,
        user,
        _("Your idea “%(text)s” is now a draft post.") % {"text": preview(contribution.text, QUOTE_CHARS)},
    )
    return contribution
