"""A person's signed-in sessions: list them, end one, end all of them (offboarding)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import import_module
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.utils import timezone

from tertulia.accounts.audit import audit_person
from tertulia.core.actions.context import Actor

if TYPE_CHECKING:
    from tertulia.core.models import User

# Session engines whose sessions live in the django_session table, where sessions allauth did not
# track (signed in before allauth.usersessions was installed, or through Django's own login) are found.
DATABASE_ENGINES = ("django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db")


def _store(session_key: str | None = None) -> SessionBase:
    engine = import_module(settings.SESSION_ENGINE)
    store: SessionBase = engine.SessionStore(session_key)
    return store


def _untracked_session_keys(user: User) -> list[str]:
    """Session keys in the session table that belong to `user` (decoding each live session)."""
    if settings.SESSION_ENGINE not in DATABASE_ENGINES:
        return []
    from django.contrib.sessions.models import Session

    keys = []
    live = Session.objects.filter(expire_date__gt=timezone.now()).only("session_key", "session_data")
    for session in live.iterator(chunk_size=500):
        data = session.get_decoded()
        if str(data.get(SESSION_KEY, "")) == str(user.pk):
            keys.append(session.session_key)
    return keys


def end_all_sessions(actor: Actor, user: User) -> int:
    """Sign `user` out everywhere: every web session (remember-me ones too). Returns how many ended.

    Audited (`person.sessions_ended`) in every organization the person belongs to, also when there was
    nothing to end, so each organization's trail shows it.
    """
    from allauth.usersessions.models import UserSession

    keys = set(UserSession.objects.filter(user_id=user.pk).values_list("session_key", flat=True))
    keys.update(_untracked_session_keys(user))
    ended = 0
    for key in sorted(keys):
        store = _store()
        if store.exists(key):
            ended += 1
        store.delete(key)
    with transaction.atomic():
        UserSession.objects.filter(user_id=user.pk).delete()
        audit_person(actor, user, "person.sessions_ended", {"sessions": [ended, 0]})
    return ended


@dataclass(frozen=True)
class SessionRow:
    """One signed-in session of a person, as their sessions page shows it."""

    pk: int
    browser: str
    ip: str
    started_at: datetime
    last_seen_at: datetime
    current: bool


def describe_browser(user_agent: str) -> str:
    """A short description ("Firefox · Linux") of a User-Agent header; the header itself if unknown."""
    ua = user_agent or ""
    browser = next((name for token, name in BROWSERS if token in ua), "")
    system = next((name for token, name in SYSTEMS if token in ua), "")
    if browser and system:
        return f"{browser} · {system}"
    return browser or system or (ua[:80] if ua else "—")


BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("HeadlessChrome/", "Chrome (headless)"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
)
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)


def list_sessions(user: User, current_key: str | None) -> list[SessionRow]:
    """The person's live sessions, newest activity first (sessions that ended on their own are dropped)."""
    from allauth.usersessions.models import UserSession

    rows = [
        SessionRow(
            pk=s.pk,
            browser=describe_browser(s.user_agent),
            ip=s.ip,
            started_at=s.created_at,
            last_seen_at=s.last_seen_at,
            current=s.session_key == current_key,
        )
        for s in UserSession.objects.purge_and_list(user)
    ]
    return sorted(rows, key=lambda r: (not r.current, -r.last_seen_at.timestamp()))


def end_session(actor: Actor, user: User, session_pk: int) -> bool:
    """Sign one of `user`'s sessions out (`person.session_end`); False if it is not theirs or is gone."""
    from allauth.usersessions.models import UserSession

    session = UserSession.objects.filter(pk=session_pk, user_id=user.pk).first()
    if session is None:
        return False
    described = f"{describe_browser(session.user_agent)}, {session.ip}"
    session.end()
    audit_person(actor, user, "person.session_end", {"session": [described, None]})
    return True


def end_other_sessions(actor: Actor, user: User, current_key: str | None) -> int:
    """Sign out everywhere else (`person.sessions_end_others`); the current session stays."""
    from allauth.usersessions.models import UserSession

    keys = {s.session_key for s in UserSession.objects.filter(user_id=user.pk)}
    keys.update(_untracked_session_keys(user))
    keys.discard(current_key or "")
    ended = 0
    for key in sorted(keys):
        store = _store()
        if store.exists(key):
            ended += 1
        store.delete(key)
    UserSession.objects.filter(user_id=user.pk, session_key__in=keys).delete()
    audit_person(actor, user, "person.sessions_end_others", {"sessions": [ended, 0]})
    return ended
