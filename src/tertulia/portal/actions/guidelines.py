"""Writing a brand's guidelines; every save keeps a version (who, what, when)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, User
from tertulia.core.permissions import Perm, has_perm
from tertulia.portal.access import may_edit_guidelines
from tertulia.portal.models import MAX_BODY, MAX_TITLE, Guideline, GuidelineKind, GuidelineVersion


class GuidelineRefused(ValueError):
    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__(" ".join(messages))


class StaleGuideline(GuidelineRefused):
    """Someone saved another version since the form was opened."""


@dataclass(frozen=True)
class GuidelineIn:
    kind: str
    title: str
    body: str = ""
    owner: User | None = None
    last_reviewed: date | None = None


def _require(actor: Actor, brand: Brand) -> None:
    if actor.user is not None and not may_edit_guidelines(actor.user, brand):
        raise GuidelineRefused([_("You may not change this brand's guidelines.")])


def _check(brand: Brand, given: GuidelineIn) -> list[str]:
    errors = []
    if given.kind not in GuidelineKind.values:
        errors.append(_("Choose a kind of guideline from the list."))
    if not given.title.strip():
        errors.append(_("Give the guideline a title."))
    if len(given.title.strip()) > MAX_TITLE:
        errors.append(_("The title has at most %(n)d characters.") % {"n": MAX_TITLE})
    if len(given.body) > MAX_BODY:
        errors.append(_("The text has at most %(n)d characters.") % {"n": MAX_BODY})
    if "\x00" in given.body or "\x00" in given.title:
        errors.append(_("The text contains a NUL character."))
    if given.owner is not None and not has_perm(given.owner, brand.organization, Perm.VIEW, brand):
        errors.append(_("The owner must be a member who works in this brand."))
    return errors


def _snapshot(guideline: Guideline, user: User | None) -> None:
    GuidelineVersion.objects.create(
        guideline=guideline,
        version=guideline.version,
        kind=guideline.kind,
        title=guideline.title,
        body=guideline.body,
        last_reviewed=guideline.last_reviewed,
        changed_by=user,
    )


@transaction.atomic
def create_guideline(actor: Actor, brand: Brand, given: GuidelineIn) -> Guideline:
    _require(actor, brand)
    errors = _check(brand, given)
    if errors:
        raise GuidelineRefused(errors)
    guideline = Guideline(
        organization=brand.organization,
        brand=brand,
        kind=given.kind,
        title=given.title.strip(),
        body=given.body,
        owner=given.owner,
        last_reviewed=given.last_reviewed,
        updated_by=actor.user,
    )
    guideline.full_clean()
    guideline.save()
    _snapshot(guideline, actor.user)
    record(
        actor,
        brand.organization,
        "guideline.created",
        guideline,
        {"kind": [None, guideline.kind], "title": [None, guideline.title]},
    )
    return guideline


@transaction.atomic
def update_guideline(actor: Actor, guideline: Guideline, given: GuidelineIn, *, version: int) -> Guideline:
    guideline = Guideline.objects.select_for_update(of=("self",)).select_related("brand").get(pk=guideline.pk)
    _require(actor, guideline.brand)
    if guideline.version != version:
        raise StaleGuideline(
            [_("Someone saved this guideline while you were editing it. Open it again to see their version.")]
        )
    errors = _check(guideline.brand, given)
    if errors:
        raise GuidelineRefused(errors)
    changes: dict[str, list[object]] = {}
    values = {
        "kind": given.kind,
        "title": given.title.strip(),
        "body": given.body,
        "owner": given.owner,
        "last_reviewed": given.last_reviewed,
    }
    for name, value in values.items():
        old = getattr(guideline, name)
        if old != value:
            # The body itself is in the versions; the audit trail says it changed.
            changes[name] = ["…", "…"] if name == "body" else [_plain(old), _plain(value)]
            setattr(guideline, name, value)
    if not changes:
        return guideline
    guideline.version += 1
    guideline.updated_by = actor.user
    guideline.full_clean()
    guideline.save()
    _snapshot(guideline, actor.user)
    record(
        actor,
        guideline.organization,
        "guideline.updated",
        guideline,
        {**changes, "version": [version, guideline.version]},
    )
    return guideline


def _plain(value: object) -> object:
    if isinstance(value, User):
        return value.email
    if isinstance(value, date):
        return value.isoformat()
    return value


@transaction.atomic
def delete_guideline(actor: Actor, guideline: Guideline) -> None:
    _require(actor, guideline.brand)
    record(actor, guideline.organization, "guideline.deleted", guideline, {"title": [guideline.title, None]})
    guideline.delete()
