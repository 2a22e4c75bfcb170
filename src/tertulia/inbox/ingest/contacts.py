"""The people behind messages: one ContactHandle per network account, one Contact per person.

A handle is found by the network's stable account id first (handles change; Bluesky DIDs and
X user ids do not), then by handle. New authors get a Contact of their own, which people can
later merge across networks. Reach (followers) is refreshed from every message.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from tertulia.connectors.base import RemoteAuthor
from tertulia.core.models import Channel, Contact, ContactHandle
from tertulia.inbox.ingest.bulk import insert_rows, update_fields

MAX_HANDLE = 255


def _key(author: RemoteAuthor) -> str:
    return author.remote_id or author.handle


def resolve_authors(channel: Channel, authors: Iterable[RemoteAuthor]) -> dict[str, ContactHandle]:
    """The ContactHandle of every author, created where missing; keyed by remote id (or handle)."""
    wanted: dict[str, RemoteAuthor] = {}
    for author in authors:
        if author.handle or author.remote_id:
            wanted.setdefault(_key(author), author)
    if not wanted:
        return {}
    found = _existing(channel, wanted.values())
    # In a fixed order: two workers creating some of the same people then queue on the first one
    # instead of deadlocking on each other's (bench/inbox_ingest.py --workers 2 on PostgreSQL).
    missing = [a for k, a in sorted(wanted.items()) if k not in found]
    if missing:
        try:
            with transaction.atomic():  # a savepoint: another worker may create the same people now
                found.update(_create(channel, missing))
        except IntegrityError:
            found.update(_existing(channel, missing))
            for author in missing:
                if _key(author) not in found:
                    found.update(_create_one(channel, author))
    _refresh_reach(found, wanted)
    return found


def _create_one(channel: Channel, author: RemoteAuthor) -> dict[str, ContactHandle]:
    """One author after a race: another worker may be creating this very person too, right now
    (bench/inbox_ingest.py --workers 2 on PostgreSQL hit it); then theirs is the one."""
    try:
        with transaction.atomic():
            return _create(channel, [author])
    except IntegrityError:
        return _existing(channel, [author])


def _existing(channel: Channel, authors: Iterable[RemoteAuthor]) -> dict[str, ContactHandle]:
    authors = list(authors)
    remote_ids = {a.remote_id for a in authors if a.remote_id}
    rows = ContactHandle.objects.filter(organization_id=channel.organization_id, network=channel.network)
    by_remote = {h.remote_id: h for h in rows.filter(remote_id__in=remote_ids)} if remote_ids else {}
    # Only those the stable id did not find are looked up by handle (most are found by id).
    handles = {a.handle[:MAX_HANDLE] for a in authors if a.handle and a.remote_id not in by_remote}
    by_handle = {h.handle: h for h in rows.filter(handle__in=handles)} if handles else {}
    found: dict[str, ContactHandle] = {}
    for author in authors:
        row = by_remote.get(author.remote_id) if author.remote_id else None
        row = row or by_handle.get(author.handle[:MAX_HANDLE])
        if row is not None:
            found[_key(author)] = row
    return found


def _create(channel: Channel, authors: list[RemoteAuthor]) -> dict[str, ContactHandle]:
    contacts = insert_rows(
        [
            Contact(
                organization_id=channel.organization_id,
                display_name=(a.display_name or a.handle or a.remote_id)[:255],
            )
            for a in authors
        ]
    )
    handles = insert_rows(
        [
            ContactHandle(
                organization_id=channel.organization_id,
                contact=contact,
                network=channel.network,
                handle=(a.handle or a.remote_id)[:MAX_HANDLE],
                remote_id=a.remote_id[:MAX_HANDLE],
                followers_count=max(a.followers_count, 0),
                profile_url=a.profile_url[:200] if a.profile_url.startswith(("https://", "http://")) else "",
            )
            for a, contact in zip(authors, contacts, strict=True)
        ]
    )
    return {_key(a): h for a, h in zip(authors, handles, strict=True)}


def _refresh_reach(found: dict[str, ContactHandle], wanted: dict[str, RemoteAuthor]) -> None:
    changed: list[ContactHandle] = []
    for key, row in found.items():
        author = wanted.get(key)
        if author is None:
            continue
        dirty = False
        if author.followers_count and author.followers_count != row.followers_count:
            row.followers_count = author.followers_count
            dirty = True
        if author.remote_id and not row.remote_id:
            row.remote_id = author.remote_id[:MAX_HANDLE]
            dirty = True
        if author.handle and author.handle != row.handle and author.remote_id == row.remote_id:
            # The person renamed themselves; the id says it is the same account.
            row.handle = author.handle[:MAX_HANDLE]
            dirty = True
        if dirty:
            changed.append(row)
    if changed:
        try:
            with transaction.atomic():
                update_fields(changed, ["followers_count", "remote_id", "handle"])
        except IntegrityError:  # a rename onto a handle another row still holds: keep reach only
            update_fields(changed, ["followers_count"])
