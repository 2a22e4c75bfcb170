"""Saved replies: answers in the brand's voice, one version per language, with a few variables.

A body such as "Hola, {name}: soy {agent}, de {brand}." is filled in for one conversation by
`render`. Variables are a closed list (`VARIABLES`) substituted by a regular expression, never by
`str.format`: a body is written by people and arrives through the API, so `{name.__class__}` or
`{0}` must stay plain text rather than reach into Python objects. An unknown `{word}` is left as
typed, so a typo shows in the composer instead of silently vanishing; a value that is missing (a
teammate without a name) becomes empty. Values are inserted once: a customer called "{agent}"
stays "{agent}".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, User
from tertulia.inbox.models import Conversation, Direction, Message, SavedReply

VARIABLES: dict[str, Promise] = {
    "name": _("the customer's display name (their handle if the network gave no name)"),
    "handle": _("the customer's handle on the network, with @"),
    "agent": _("the first name of the person replying"),
    "brand": _("the brand's name"),
    "channel": _("the brand's account on this network, with @"),
}

# Only plain names: "{name}" matches, "{name.__class__}", "{0}" and "{ name }" do not.
VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def unknown_variables(body: str) -> list[str]:
    """The `{words}` in `body` that are not variables, in order of appearance (for validation)."""
    seen: list[str] = []
    for word in VARIABLE.findall(body):
        if word not in VARIABLES and word not in seen:
            seen.append(word)
    return seen


def _at(handle: str) -> str:
    handle = handle.strip().lstrip("@")
    return f"@{handle}" if handle else ""


def values_for(conversation: Conversation, agent: User | None) -> dict[str, str]:
    """What each variable stands for in this conversation (empty where unknown)."""
    newest = (
        Message.objects.filter(conversation=conversation, direction=Direction.INBOUND)
        .order_by("-sent_at", "-id")
        .values_list("author_handle", "author_name")
        .first()
    )
    handle, author_name = newest if newest is not None else ("", "")
    contact = conversation.contact
    name = (contact.display_name if contact is not None else "") or author_name or handle.lstrip("@")
    # Never the e-mail address (User.get_short_name falls back to it): customers read this.
    agent_name = agent.display_name.split()[0] if agent is not None and agent.display_name.split() else ""
    channel = conversation.channel
    return {
        "name": name.strip(),
        "handle": _at(handle),
        "agent": agent_name,
        "brand": conversation.brand.name,
        "channel": _at(channel.handle),
    }


def fill(body: str, values: Mapping[str, str]) -> str:
    """Substitute known variables in one pass; unknown `{words}` are left visible."""

    def substitute(match: re.Match[str]) -> str:
        word = match.group(1)
        if word not in VARIABLES:
            return match.group(0)
        return values.get(word, "")

    return VARIABLE.sub(substitute, body)


def render(body: str, conversation: Conversation, agent: User | None) -> str:
    """The saved reply's text for this conversation, as `agent` would send it."""
    return fill(body, values_for(conversation, agent))


def _preferences(*languages: str) -> list[str]:
    """Exact tags first, then their base language: ("pt-BR", "es") → pt-br, pt, es."""
    wanted: list[str] = []
    for language in languages:
        tag = language.strip().lower()
        for candidate in (tag, tag.split("-", 1)[0]):
            if candidate and candidate not in wanted:
                wanted.append(candidate)
    return wanted


class _Versioned(Protocol):
    @property
    def language(self) -> str: ...


V = TypeVar("V", bound=_Versioned)


def _best(replies: Iterable[V], preferences: list[str]) -> V | None:
    def rank(reply: V) -> tuple[int, str]:
        tag = reply.language.lower()
        for index, wanted in enumerate(preferences):
            if tag == wanted:
                return (index * 2, tag)
            if tag.split("-", 1)[0] == wanted:  # "es-MX" serves someone writing "es"
                return (index * 2 + 1, tag)
        return (len(preferences) * 2, tag)  # any other language, alphabetically: stable

    ranked = sorted(replies, key=rank)
    return ranked[0] if ranked else None


def pick(brand: Brand, shortcut: str, language: str) -> SavedReply | None:
    """The version of /shortcut in `language`, else in the brand's language, else any."""
    versions = SavedReply.objects.filter(brand=brand, shortcut=shortcut.strip().lstrip("/").lower())
    return _best(versions, _preferences(language, brand.language))


def for_conversation(conversation: Conversation) -> list[SavedReply]:
    """The brand's saved replies, one per shortcut, each in the best language for this conversation."""
    preferences = _preferences(conversation.language, conversation.brand.language)
    by_shortcut: dict[str, list[SavedReply]] = {}
    for reply in SavedReply.objects.filter(brand_id=conversation.brand_id):
        by_shortcut.setdefault(reply.shortcut, []).append(reply)
    chosen = (_best(versions, preferences) for _shortcut, versions in sorted(by_shortcut.items()))
    return [reply for reply in chosen if reply is not None]


# --- pinned answers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pinned:
    """An answer another part of Tertulia pins above the saved replies for a while: a crisis's
    approved holding statements (tertulia.crisis.pins). Never stored here; `label` says why."""

    shortcut: str
    language: str
    title: str
    body: str
    label: str


PinnedSource = Callable[[Brand], list[Pinned]]
_PINNED_SOURCES: list[PinnedSource] = []


def add_pinned_source(source: PinnedSource) -> None:
    """Called once from an AppConfig.ready(): `source(brand)` gives what is pinned for it now."""
    if source not in _PINNED_SOURCES:
        _PINNED_SOURCES.append(source)


def pinned_for(conversation: Conversation) -> list[Pinned]:
    """What is pinned for the conversation's brand now, one per shortcut in the best language."""
    preferences = _preferences(conversation.language, conversation.brand.language)
    by_shortcut: dict[str, list[Pinned]] = {}
    for source in _PINNED_SOURCES:
        for pinned in source(conversation.brand):
            by_shortcut.setdefault(pinned.shortcut, []).append(pinned)
    chosen = (_best(versions, preferences) for versions in by_shortcut.values())
    return [pinned for pinned in chosen if pinned is not None]
