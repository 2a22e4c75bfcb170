"""Saving listening queries: validated by the parser, named uniquely per brand, audited."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand
from tertulia.listening.actions.common import ListeningRefused, require_manage
from tertulia.listening.models import ListeningQuery, QueryGroup
from tertulia.listening.query import ParsedQuery, QueryError, parse

MAX_NAME = 120


def check_text(text: str) -> ParsedQuery:
    try:
        return parse(text)
    except QueryError as error:
        raise ListeningRefused(error.message, "text", error) from error


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ListeningRefused(_("Give the query a name."), "name")
    if len(name) > MAX_NAME:
        raise ListeningRefused(_("The name has at most %(n)d characters.") % {"n": MAX_NAME}, "name")
    return name


def _clean_group(group: str) -> str:
    if group not in QueryGroup.values:
        raise ListeningRefused(_("Choose brand, competitors or industry topics."), "group")
    return group


def create_query(
    actor: Actor, brand: Brand, *, name: str, text: str, group: str = QueryGroup.BRAND, is_active: bool = True
) -> ListeningQuery:
    require_manage(actor, brand.organization, brand)
    name, group = _clean_name(name), _clean_group(group)
    check_text(text)
    try:
        with transaction.atomic():
            query = ListeningQuery.objects.create(
                organization=brand.organization,
                brand=brand,
                name=name,
                group=group,
                text=text,
                is_active=is_active,
                created_by=actor.user,
            )
            record(
                actor, brand.organization, "listening.query_created", query, {"text": text, "group": group}
            )
    except IntegrityError:
        raise ListeningRefused(_("This brand already has a query with that name."), "name") from None
    return query


def update_query(
    actor: Actor,
    query: ListeningQuery,
    *,
    version: int,
    name: str | None = None,
    text: str | None = None,
    group: str | None = None,
    is_active: bool | None = None,
) -> ListeningQuery:
    """Change what is given; refused if someone else saved the query since `version` was read."""
    require_manage(actor, query.organization, query.brand)
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = _clean_name(name)
    if group is not None:
        changes["group"] = _clean_group(group)
    if text is not None:
        check_text(text)
        changes["text"] = text
    if is_active is not None:
        changes["is_active"] = is_active
    changes = {key: value for key, value in changes.items() if getattr(query, key) != value}
    if not changes:
        return query
    try:
        with transaction.atomic():
            moved = ListeningQuery.objects.filter(pk=query.pk, version=version).update(
                # update() skips auto_now: the matchers' fingerprint reads updated_at, so set it.
                **changes,
                version=F("version") + 1,
                updated_at=timezone.now(),
            )
            if not moved:
                raise ListeningRefused(
                    _("Someone else changed this query meanwhile: reload it and try again.")
                )
            before = {key: getattr(query, key) for key in changes}
            query.refresh_from_db()
            record(
                actor,
                query.organization,
                "listening.query_changed",
                query,
                {key: [before[key], getattr(query, key)] for key in changes},
            )
    except IntegrityError:
        raise ListeningRefused(_("This brand already has a query with that name."), "name") from None
    return query


def delete_query(actor: Actor, query: ListeningQuery) -> None:
    """Delete the query and its matches; the mentions stay (other queries may share them)."""
    require_manage(actor, query.organization, query.brand)
    with transaction.atomic():
        record(actor, query.organization, "listening.query_deleted", query, {"text": query.text})
        query.delete()
