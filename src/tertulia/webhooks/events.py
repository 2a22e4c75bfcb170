"""The event types an endpoint can subscribe to.

Each type has a stable name (`area.what_happened`), a label and a description for people, and
the payload its emitter sends in `data` (documented in docs/outbound.md). Chat formats (Slack,
Mattermost) show one line per event: the type's label, then `data["summary"]` when the emitter
gives one (plain text, written for a person), then `data["url"]` as a link when it is an http(s)
address. Emitters should always give a summary.

Another app adds its types with `register(...)` in its AppConfig.ready(); issue 8's crisis alerts
will do so.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

TEST_EVENT = "webhook.test"


@dataclass(frozen=True)
class EventType:
    name: str
    label: Promise | str
    description: Promise | str
    subscribable: bool = True  # the test event is sent on request, never subscribed to


REGISTRY: dict[str, EventType] = {}


def register(
    name: str, label: Promise | str, description: Promise | str, *, subscribable: bool = True
) -> EventType:
    """Add an event type (idempotent for the same name and words)."""
    if not name or len(name) > 64 or name != name.strip() or "." not in name:
        raise ValueError(f"an event type is named area.what_happened (at most 64 characters), not {name!r}")
    event = EventType(name, label, description, subscribable)
    existing = REGISTRY.get(name)
    if existing is not None and existing != event:
        raise ValueError(f"the webhook event type {name!r} is registered already, differently")
    REGISTRY[name] = event
    return event


def get(name: str) -> EventType:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"no webhook event type is registered as {name!r}") from None


def subscribable() -> list[EventType]:
    return sorted((event for event in REGISTRY.values() if event.subscribable), key=lambda event: event.name)


register(
    TEST_EVENT,
    _("Test event"),
    _("Sent when someone presses “Send test event”, to check that the endpoint receives and verifies."),
    subscribable=False,
)
register(
    "security.second_factor_removed",
    _("Second factor removed"),
    _("A member's second factor (authenticator app, security key or recovery codes) was removed."),
)
register(
    "security.account_compromised",
    _("Account marked as compromised"),
    _("Someone marked a channel as compromised: publishing on it is paused and its tokens revoked."),
)
register(
    "security.post_held",
    _("Post held by the hijack guard"),
    _("An outgoing post or reply looked unusual and is held until a second person releases it."),
)
register(
    "member.offboarded",
    _("Member offboarded"),
    _("A member was offboarded: signed out everywhere, tokens and grants revoked, work reassigned."),
)
register(
    "audit.chain_broken",
    _("Audit trail tampered with"),
    _("Verifying the audit trail found a broken link in its hash chain."),
)
