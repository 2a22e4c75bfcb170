"""Adding and removing an organization's own listening sources: feeds and Mastodon streams."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from tertulia.core.actions.audit import record
from tertulia.core.actions.context import Actor
from tertulia.core.models import Organization
from tertulia.listening.actions.common import ListeningRefused, require_manage
from tertulia.listening.models import ListeningSource, SourceKind

_HASHTAG = re.compile(r"\w{1,100}")


def _clean_url(url: str) -> str:
    url = url.strip()
    refused = ListeningRefused(_("Give a web address that starts with https:// (or http://)."), "url")
    if len(url) > 500:
        raise refused
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError when it is not a number from 0 to 65535
    except ValueError:  # an unclosed or malformed [IPv6] host, a bad port
        raise refused from None
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        raise refused
    if "@" in parts.netloc:
        # A password typed into the address would be stored, shown and sent to every server on the way.
        raise ListeningRefused(_("Leave the user name and password out of the address."), "url")
    return url


def add_source(
    actor: Actor, organization: Organization, *, kind: str, url: str, name: str = "", hashtag: str = ""
) -> ListeningSource:
    require_manage(actor, organization, every_brand=True)
    if kind not in SourceKind.values:
        raise ListeningRefused(_("Choose a kind of source."), "kind")
    url = _clean_url(url)
    hashtag = hashtag.strip().removeprefix("#")
    if kind == SourceKind.MASTODON_HASHTAG:
        if not _HASHTAG.fullmatch(hashtag):
            raise ListeningRefused(_("Give the hashtag, letters and digits only, as #vino."), "hashtag")
    else:
        hashtag = ""
    if kind != SourceKind.FEED:
        # A Mastodon server is its origin: https://mastodon.social, not a page on it.
        parts = urlsplit(url)
        url = f"{parts.scheme}://{parts.netloc}"
    name = " ".join(name.split())[:120] or (
        f"#{hashtag} @ {urlsplit(url).hostname}" if hashtag else url[:120]
    )
    try:
        with transaction.atomic():
            source = ListeningSource.objects.create(
                organization=organization,
                kind=kind,
                name=name,
                url=url,
                hashtag=hashtag,
                created_by=actor.user,
            )
            record(
                actor,
                organization,
                "listening.source_added",
                source,
                {"kind": kind, "url": url, "hashtag": hashtag},
            )
    except IntegrityError:
        raise ListeningRefused(_("This source is already there."), "url") from None
    return source


@transaction.atomic
def set_source_active(actor: Actor, source: ListeningSource, active: bool) -> None:
    require_manage(actor, source.organization, every_brand=True)
    if source.is_active != active:
        source.is_active = active
        source.save(update_fields=["is_active"])
        record(
            actor,
            source.organization,
            "listening.source_changed",
            source,
            {"is_active": [not active, active]},
        )


@transaction.atomic
def remove_source(actor: Actor, source: ListeningSource) -> None:
    """The source stops; what it brought in stays (mentions keep their matches, the source is blanked)."""
    require_manage(actor, source.organization, every_brand=True)
    record(actor, source.organization, "listening.source_removed", source, {"url": source.url})
    source.delete()
