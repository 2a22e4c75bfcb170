"""One organization with something in every table, and hostile text in every user-editable field.

Used by the CSRF and the escaping suites (each builds it once per module, see `conftest.py`).

1. `build_world()` fills an organization the way people and networks do, through the actions layer:
   the demo's brands, channels, contacts, posts at every stage, listening queries and mentions, then
   inbox traffic from the network, notes, tags, replies, moderation, pauses, workflows, tokens...
2. Any model of the project still without a row gets one from `generic_row()`, which fills required
   fields from their types (foreign keys point at existing rows). A model it cannot fill fails the
   tests with "add a factory for model X" (add a step to `build_world()` for it).
3. `poison()` then overwrites every text field of every row (CharField, TextField, EmailField,
   URLField, the strings inside JSONFields) with a hostile payload carrying a marker unique to that
   field. Fields that never hold text from a person or a network (hashes, keys, codes from a closed
   list, ids Tertulia makes) are listed in `NOT_USER_TEXT` with the reason; fields with `choices`
   are skipped by construction. Everything else is poisoned by default, so a new field is covered
   without editing this file.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from importlib import import_module
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

# A model's rows are what the seed poisons; these apps are the project's.
PROJECT_PREFIX = "tertulia."
# Models of libraries whose rows the project shows on its pages (the sessions list's user agents).
SHOWN_LIBRARY_MODELS = ("usersessions.UserSession",)

# label.field -> why it never holds text a person or a network wrote (so it is not poisoned).
NOT_USER_TEXT: dict[str, str] = {
    "reports.RunDocument.html": "a report's HTML as Tertulia rendered it (its text escaped then), served "
    "with a Content-Security-Policy that runs no script (tertulia.web.views.reports)",
    "core.User.password": "a password hash",
    "core.Organization.slug": "made by Tertulia from the name (unique_org_slug)",
    "core.Brand.slug": "made by Tertulia from the name (unique_brand_slug)",
    "core.Brand.language": "a language code checked against the list of languages",
    "core.Brand.timezone": "an IANA zone name checked on input",
    "core.AuditEntry.action": "an action name written by Tertulia's code",
    "core.AuditEntry.object_type": "a model label written by Tertulia's code",
    "core.AuditEntry.object_id": "a primary key",
    "core.AuditEntry.previous_hash": "a digest in the audit chain",
    "core.AuditEntry.hash": "a digest in the audit chain",
    "core.AuditChain.key": "the chain's name: an organization's id or 'installation'",
    "core.AuditChain.head_hash": "a digest in the audit chain",
    "core.Channel.network": "a registered connector's name",
    "core.Channel.capabilities": "flags set by the connector",
    "core.Channel.settings": "the network's server address and options, checked when connecting",
    "core.ContactHandle.network": "a registered connector's name",
    "live.LiveEvent.topic": "an internal topic name",
    "live.LiveEvent.data": "ids for the live stream, made by Tertulia",
    "vault.Credential.key_id": "the id of a vault key",
    "vault.NetworkApp.network": "a registered connector's name",
    "vault.NetworkApp.key_id": "the id of a vault key",
    "vault.NetworkApp.base_url": "the network's server, set by the operator and checked",
    "connectors.RateWindow.network": "a registered connector's name",
    "connectors.RateWindow.bucket": "a rate-limit bucket name from the connector",
    "connectors.InboundEvent.network": "a registered connector's name",
    "connectors.InboundEvent.status": "a processing state",
    "connectors.PendingAuthorization.state": "a random OAuth state made by Tertulia",
    "connectors.PendingAuthorization.code_verifier": "a random PKCE verifier made by Tertulia",
    "connectors.PendingAuthorization.network": "a registered connector's name",
    "connectors.PendingAuthorization.base_url": "the network's server, checked before it is stored",
    "connectors.PendingChoice.network": "a registered connector's name",
    "connectors.PendingChoice.base_url": "the network's server, checked before it is stored",
    "connectors.PendingChoice.key_id": "the id of a vault key",
    "sandbox.SandboxAccount.handle": "checked by the sandbox network (2 to 30 letters, digits or _)",
    "sandbox.SandboxAccount.language": "a language code",
    "sandbox.SandboxPost.language": "a language code",
    "sandbox.SandboxPost.idempotency_key": "a key made by the client",
    "sandbox.SandboxMessage.idempotency_key": "a key made by the client",
    "sandbox.SandboxMedia.mime_type": "sniffed from the file",
    "sandbox.SandboxMedia.sha256": "a digest",
    "sandbox.SandboxSimulation.key": "the simulator's key made from handles",
    "inbox.Conversation.key": "the network's thread id, used to thread messages (never shown)",
    "inbox.Conversation.language": "a language code from the language identifier",
    "inbox.ChannelCursor.cursor": "the network's opaque paging cursor (never shown)",
    "inbox.Message.remote_id": "the network's message id (never shown)",
    "inbox.Message.author_remote_id": "the network's account id (never shown)",
    "inbox.Message.in_reply_to": "the network's message id (never shown)",
    "inbox.Message.language": "a language code from the language identifier",
    "inbox.Message.idempotency_key": "a key made by Tertulia",
    "inbox.SlaPolicy.intent_targets": "numbers per intent, checked on input",
    "inbox.SlaPolicy.business_hours": "hours per weekday, checked on input",
    "inbox.SavedReply.shortcut": "a slug checked on input",
    "inbox.SavedReply.language": "a language code checked on input",
    "inbox.Notification.url": "a path inside Tertulia built by its code",
    "moderation.ModerationAction.key": "a key made by Tertulia",
    "moderation.ModerationAction.params": "parameters made by Tertulia's code",
    "publishing.MediaAsset.mime_type": "sniffed from the file",
    "publishing.MediaAsset.sha256": "a digest",
    "publishing.Rendition.placement": "a placement name from the connector",
    "publishing.Rendition.mime_type": "the rendition's format",
    "publishing.Variant.placement": "a placement name from the connector",
    "publishing.ApprovalStep.roles": "role names checked on input",
    "publishing.DeliveryTarget.payload": "what is sent to the network, rebuilt from the post by Tertulia",
    "publishing.DeliveryTarget.idempotency_key": "a key made by Tertulia",
    "publishing.DeliveryTarget.lease_owner": "a worker's name",
    "publishing.DeliveryTarget.remote_id": "the network's post id (never shown)",
    "publishing.DeliveryAttempt.worker": "a worker's name",
    "listening.ListeningSource.cursor": "the network's opaque paging cursor (never shown)",
    "listening.ListeningSource.holder": "a worker's lease",
    "listening.FirehoseState.service": "the relay address set by the operator",
    "listening.FirehoseState.holder": "a worker's lease",
    "listening.Mention.network": "a registered connector's name",
    "listening.Mention.remote_id": "the network's post id (never shown)",
    "listening.Mention.language": "a language code",
    "accounts.SsoConnection.provider_id": "a slug made by Tertulia for the provider",
    "accounts.SsoConnection.key_id": "the id of a vault key",
    "webhooks.Endpoint.key_id": "the id of a vault key",
    "webhooks.Endpoint.language": "a language code checked on input",
    "webhooks.Endpoint.event_types": "event type names checked on input",
    "webhooks.Delivery.event_id": "an id made by Tertulia",
    "webhooks.Delivery.event_type": "an event type name from Tertulia's code",
    "webhooks.Delivery.payload": "the event as Tertulia built it, sent to the endpoint (never shown as is)",
    "guard.IncidentStep.key": "the checklist step's name in Tertulia's code",
    "guard.IncidentEvent.what": "an event name from Tertulia's code",
    "guard.OutgoingEvent.item": "a post or reply reference made by Tertulia",
    "governance.Invitation.language": "a language code checked on input",
    "governance.Invitation.token_digest": "a digest of the invitation's token",
    "usersessions.UserSession.session_key": "a session's key, made by Django",
    "usersessions.UserSession.data": "what allauth keeps about the session",
    "api.ApiToken.prefix": "the token's public prefix, made by Tertulia",
    "api.ApiToken.digest": "a digest of the token",
    "api.ApiToken.scopes": "scope names checked on input",
}

MARKER_WIDTH = 4
# label.field -> (rows left alone, why): the rest of the rows get the payload.
ROWS_LEFT_ALONE: dict[str, tuple[Callable[[models.QuerySet[Any]], models.QuerySet[Any]], str]] = {
    "core.Channel.handle": (
        lambda rows: rows.filter(network="sandbox"),
        "a sandbox channel's handle names its simulated account, checked when it is connected",
    ),
}
# A unique field (alone or with others) gets one payload per row, on this many rows at most.
PER_ROW = 50


def marker(index: int) -> str:
    """A lowercase token unique to one field; the template check looks for its upper-case twin."""
    return f"xq{index:0{MARKER_WIDTH}d}z"


def sqlite() -> bool:
    return connection.vendor == "sqlite"


def payload_for(index: int, fld: models.Field[Any, Any]) -> str:
    """Hostile text carrying `marker(index)`, as long as the field takes (within max_length)."""
    mark = marker(index)
    limit = getattr(fld, "max_length", None) or 3000
    if isinstance(fld, models.EmailField):
        # Valid, so it could really be stored: the characters an address may hold that HTML cares for.
        return f"{mark}&'`{{|}}~@example.com"[:limit]
    formula = ("=", "+", "-", "@", "")[index % 5]  # spreadsheets run cells that start with these
    urlish = isinstance(fld, models.URLField) or "url" in fld.name or fld.name in {"website", "link"}
    first = f"javascript:alert('{mark}')//" if urlish else f"{formula}{mark}"
    parts = [
        first,
        f"<script tertulia-xss={mark}>alert('{mark}')</script>",
        f'"><img src=x tertulia-xss={mark} onerror=alert(1)>',
        f"'><svg tertulia-xss={mark} onload=alert(1)>",
        "{{ '" + mark + "'|upper }}{% debug %}",
        "\u202e\u200b\u200d👩\u200d👩\u200d👧 é",
    ]
    if sqlite():
        parts.append("\x00")  # PostgreSQL refuses NUL in text; SQLite keeps it
    text = "".join(parts)
    if len(text) > limit:
        short = [
            f'{first}"><img src=x tertulia-xss={mark} onerror=alert(1)>' + "{{ '" + mark + "'|upper }}",
            f'{first}"><b tertulia-xss={mark}>',
            f"{first}<b tertulia-xss={mark}>",
            f'"><i tertulia-xss={mark}>',
            f"{mark}<i tertulia-xss={mark}",
            f"{mark}<i x={mark}",
            f"{mark}<i>",
            mark,
        ]
        text = next((s for s in short if len(s) <= limit), "")
    elif limit > len(text):
        text += "ñ" * (limit - len(text))  # very long, to the last character the field takes
    return text


@dataclass
class Poisoned:
    """What `poison()` wrote: marker -> (field label, the payloads stored: one, or one per row where
    the field is unique); and what it left alone and why."""

    fields: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def label_of(self, mark: str) -> str:
        return self.fields[mark][0]


@dataclass
class World:
    organization: Any
    owner: Any
    brand: Any
    channel: Any
    token: str
    values: dict[str, object]
    poisoned: Poisoned
    generic: list[str]  # models filled by generic_row()


def project_models() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models()
        if (m.__module__.startswith(PROJECT_PREFIX) or m._meta.label in SHOWN_LIBRARY_MODELS)
        and not m._meta.proxy
        and m._meta.managed
    ]


def text_fields(model: type[models.Model]) -> Iterator[models.Field[Any, Any]]:
    for fld in model._meta.concrete_fields:
        if isinstance(fld, models.CharField | models.TextField | models.JSONField) and not fld.primary_key:
            yield fld


# -- 1. the organization, built through the actions layer -------------------------------------------------


def build_world() -> World:
    """The organization (see the module's doc); uploads go to MEDIA_ROOT, which the caller sets."""
    from tertulia.api.actions import create_token
    from tertulia.api.scopes import ALL_SCOPES
    from tertulia.connectors.base import AccountInfo, ConnectedAccount, InboundItem, InboundKind, RemoteAuthor
    from tertulia.connectors.sandbox import network as sandbox
    from tertulia.connectors.signin import start_authorization
    from tertulia.core.actions.channels import connect_account
    from tertulia.core.actions.context import Actor
    from tertulia.core.actions.rehearsals import stage_rehearsal
    from tertulia.core.models import Brand, Channel, Membership, Organization, Role, User
    from tertulia.core.models.audit import Via
    from tertulia.demo import content
    from tertulia.demo.loader import load_demo
    from tertulia.inbox.actions.assignment import assign, set_availability
    from tertulia.inbox.actions.escalation import escalate
    from tertulia.inbox.actions.notes import add_note
    from tertulia.inbox.actions.replies import send_reply
    from tertulia.inbox.actions.status import set_status
    from tertulia.inbox.actions.tags import change_tags
    from tertulia.inbox.ingest import poller
    from tertulia.inbox.ingest.pipeline import ingest
    from tertulia.inbox.models import Message
    from tertulia.listening.actions.sources import add_source
    from tertulia.moderation.actions.manual import moderate
    from tertulia.publishing.actions.pauses import pause
    from tertulia.publishing.actions.queue import set_slots
    from tertulia.publishing.actions.review import comment
    from tertulia.publishing.actions.workflows import StepSpec, set_workflow
    from tertulia.publishing.models import Post
    from tertulia.vault.actions import register_app, store_credentials
    from tests.security.routes import sample_values

    load_demo(rate_per_minute=0)
    organization = Organization.objects.get(name=content.ORGANIZATION)
    owner = User.objects.get(email=content.OWNER_EMAIL)
    actor = Actor(user=owner, via=Via.WEB, ip_address="127.0.0.1", user_agent="seed")
    brand = Brand.objects.get(organization=organization, name=content.MAIN_BRAND["name"])
    channel = Channel.objects.filter(brand=brand).order_by("pk").first()
    assert channel is not None

    # People write to the brand on the (sandbox) network; the worker's polling brings it into the inbox.
    brand_account = sandbox.get_account(channel.handle)
    fans = [sandbox.create_account(f"fan{n}", f"Fan {n}", bio="a bio") for n in (1, 2, 3)]
    root = sandbox.post(brand_account, "our post")
    sandbox.post(fans[0], f"hello @{brand_account.handle}")
    sandbox.post(fans[1], "a reply", in_reply_to=root)
    sandbox.post(fans[2], "another reply", in_reply_to=root)
    sandbox.send_dm(fans[0], brand_account, "a direct message")
    poller.ensure_cursors()
    for cursor_id in poller.claim_due():
        poller.poll(cursor_id)
    # And a network that sends addresses and profiles along (what webhooks of other networks bring).
    at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    author = RemoteAuthor("id-1", "author1", "Author 1", 10, "https://example.com/author1")
    ingest(
        channel,
        [
            InboundItem(
                remote_id="seed-1",
                kind=InboundKind.MENTION,
                author=author,
                text="a mention with an address",
                created_at=at,
                url="https://example.com/post/1",
            )
        ],
    )
    messages = list(Message.objects.filter(channel=channel).order_by("pk"))
    assert len(messages) >= 5, "the sandbox traffic did not reach the inbox"
    conversation = messages[0].conversation
    thread = next(m.conversation for m in messages if m.conversation.message_count > 1)
    add_note(actor, conversation, "a note for @lucia")
    change_tags(actor, conversation, add=["urgent", "press"])
    assign(actor, conversation, owner)
    escalate(actor, thread, "a reason to escalate")
    set_status(actor, conversation, "snoozed", timezone.now() + timedelta(days=1))
    send_reply(actor, thread, "a reply")
    # One the hijack guard holds for a second person (scam vocabulary, a domain never used before).
    send_reply(actor, thread, "Crypto giveaway! Send 1 BTC, get 2 back: https://claim-prize.example/now")
    set_availability(actor, Membership.objects.get(organization=organization, user=owner), available=True)
    moderate(actor, messages[2], "hide", "a reason to hide")

    # Publishing: a discussion, approval workflows, queue slots, a pause.
    post = Post.objects.filter(brand=brand).order_by("pk").first()
    assert post is not None
    comment(actor, post, "a comment")
    set_workflow(actor, brand, "normal", [StepSpec(name="Legal", roles=[Role.BRAND_MANAGER])])
    set_workflow(actor, brand, "crisis", [StepSpec(name="Comms", roles=[Role.OWNER])])
    set_slots(actor, channel, [(0, time(9, 0))])
    pause(actor, organization, brand, reason="a reason to pause")

    # A channel on a real network (not reached in tests): its handle and name come from the network.
    connect_account(
        actor,
        brand,
        "mastodon",
        ConnectedAccount(AccountInfo("109", "someone@mastodon.example", "Someone"), {"access_token": "seed"}),
        {"base_url": "https://mastodon.example"},
    )

    # Listening sources, a rehearsal, credentials and apps, a sign-in on its way, a token.
    add_source(actor, organization, kind="feed", url="https://example.com/feed.xml", name="a feed")
    stage_rehearsal(actor, brand, topic="a topic")
    store_credentials(actor, channel, {"access_token": "seed-token"})
    register_app(actor, "mastodon", "client-id", {"client_secret": "seed-secret"}, "https://mastodon.example")
    start_authorization("mastodon", "https://mastodon.example", brand, owner)
    _token, token = create_token(actor, owner, organization, "seed token", ALL_SCOPES)

    # Single sign-on and a webhook endpoint: their secrets are sealed, so only their actions make them.
    if apps.is_installed("tertulia.accounts"):
        from tertulia.accounts.actions.sso import SsoSettings, save_connection

        save_connection(
            actor,
            organization,
            SsoSettings(
                "Seed SSO", "https://login.example.com", "seed-client", "seed-secret", ("example.org",)
            ),
        )
    if apps.is_installed("tertulia.webhooks"):
        from tertulia.webhooks import events as webhook_events
        from tertulia.webhooks.actions import create_endpoint

        every = [event.name for event in webhook_events.subscribable()]
        create_endpoint(
            actor, organization, name="Seed hook", url="https://93.184.216.34/hook", event_types=every
        )

    # Governance and the hijack guard: an invitation, an incident on a channel.
    other_channel = Channel.objects.filter(organization=organization).exclude(pk=channel.pk).order_by("pk")
    if apps.is_installed("tertulia.governance"):
        from tertulia.governance.actions.invitations import invite

        invite(actor, organization, "invitee@example.com", Role.ANALYST, site_url="https://tertulia.example")
    if apps.is_installed("tertulia.guard"):
        from tertulia.guard.actions.incidents import report_compromised

        report_compromised(actor, other_channel.last() or channel, "a report of what happened")

    # A second signed-in session of the owner, from a browser that says what it likes (user agent).
    if apps.is_installed("allauth.usersessions"):
        store = import_module(settings.SESSION_ENGINE).SessionStore()
        store.update(
            {
                SESSION_KEY: str(owner.pk),
                BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
                HASH_SESSION_KEY: owner.get_session_auth_hash(),
            }
        )
        store.create()
        apps.get_model("usersessions", "UserSession").objects.create(
            user=owner, session_key=store.session_key, ip="127.0.0.1", user_agent="Seed/1.0"
        )

    generic = fill_empty_models(organization)
    values = sample_values(organization)
    return World(
        organization=organization,
        owner=owner,
        brand=brand,
        channel=channel,
        token=token,
        values=values,
        poisoned=Poisoned(),
        generic=generic,
    )


# -- 2. a row for every model the steps above did not reach ----------------------------------------------


class NoFactory(AssertionError):
    pass


_unique = itertools.count(1)


# Generic rows: fields that name something in Tertulia's code get a value it knows.
GENERIC_BY_NAME: dict[str, Callable[[], object]] = {
    "network": lambda: "sandbox",
    "language": lambda: "en",
    "timezone": lambda: "UTC",
}


def _value_for(fld: models.Field[Any, Any], organization: Any, depth: int) -> Any:
    from tertulia.core.models import Organization

    if fld.name in GENERIC_BY_NAME and not fld.is_relation:
        return GENERIC_BY_NAME[fld.name]()
    if isinstance(fld, models.ForeignKey | models.OneToOneField):
        target = fld.related_model
        assert isinstance(target, type)
        if target is Organization:
            return organization
        from tests.security.routes import in_organization

        candidates = in_organization(target, organization).order_by("pk")
        if isinstance(fld, models.OneToOneField):  # one each: a row not taken yet
            candidates = candidates.exclude(pk__in=fld.model._default_manager.values(fld.attname))
        found = candidates.first()
        if found is None:
            found = generic_row(target, organization, depth + 1)
        return found
    if fld.choices:
        return fld.choices[0][0]
    if isinstance(fld, models.UUIDField):
        return uuid.uuid4()
    if isinstance(fld, models.EmailField):
        return f"generic{next(_unique)}@example.com"
    if isinstance(fld, models.SlugField):
        return f"generic-{next(_unique)}"
    if isinstance(fld, models.URLField):
        return f"https://example.com/{next(_unique)}"
    if isinstance(fld, models.CharField | models.TextField):
        return f"generic {next(_unique)}"[: fld.max_length or 50]
    if isinstance(fld, models.JSONField):
        return {}
    if isinstance(fld, models.BooleanField):
        return False
    if isinstance(fld, models.DecimalField):
        return Decimal(1)
    if isinstance(fld, models.IntegerField | models.FloatField):
        return 1 + next(_unique)
    if isinstance(fld, models.DateTimeField):
        return timezone.now()
    if isinstance(fld, models.DateField):
        return timezone.localdate()
    if isinstance(fld, models.DurationField):
        return timedelta(minutes=5)
    if isinstance(fld, models.BinaryField):
        return b"\x00" * 32
    if isinstance(fld, models.GenericIPAddressField):
        return "127.0.0.1"
    raise NoFactory(f"no generic value for {fld.model._meta.label}.{fld.name} ({type(fld).__name__})")


def generic_row(model: type[models.Model], organization: Any, depth: int = 0) -> models.Model:
    """A row of `model` with every field given a plausible value from its type."""
    if depth > 3:
        raise NoFactory(f"{model._meta.label}: its foreign keys go too deep")
    values: dict[str, Any] = {}
    for fld in model._meta.concrete_fields:
        if fld.primary_key or fld.auto_created:
            continue
        if (
            fld.has_default()
            or fld.null
            or getattr(fld, "auto_now", False)
            or getattr(fld, "auto_now_add", False)
        ):
            if not isinstance(fld, models.ForeignKey):
                continue
            if fld.null:
                continue
        values[fld.name] = _value_for(fld, organization, depth)
    try:
        with transaction.atomic():
            return model._default_manager.create(**values)
    except (IntegrityError, ValueError, TypeError) as exc:
        raise NoFactory(
            f"add a factory for model {model._meta.label}: no row of it was made by build_world() in "
            f"tests/security/seed.py and a generic one failed ({exc})"
        ) from exc


def poisonable(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    """The fields of `model` that `poison()` fills: text a person or a network may have written."""
    return [
        fld
        for fld in text_fields(model)
        if f"{model._meta.label}.{fld.name}" not in NOT_USER_TEXT and not fld.choices
    ]


def fill_empty_models(organization: Any) -> list[str]:
    """Every project model with user text gets at least one row; returns those made generically."""
    made = []
    for model in project_models():
        if not poisonable(model):
            continue
        if model._default_manager.exists():
            continue
        generic_row(model, organization)
        made.append(model._meta.label)
    return made


# -- 3. hostile text everywhere ---------------------------------------------------------------------------


def _hostile_audit_entry(texts: dict[str, str]) -> None:
    """The audit trail refuses changes: a new entry carries the payloads, written as actions write."""
    from tertulia.core.actions.audit import record
    from tertulia.core.actions.context import Actor
    from tertulia.core.models import Brand, Organization

    actor = Actor(
        user=None,
        via="web",
        ip_address="127.0.0.1",
        user_agent=texts.get("user_agent", ""),
        label_override=texts.get("actor_label", ""),
    )
    subject = Brand(name=texts.get("object_repr", ""))  # unsaved: only its name is written (object_repr)
    changes = {"name": [texts.get("changes", ""), texts.get("changes", "")]} if "changes" in texts else {}
    for organization in Organization.objects.all():
        record(actor, organization, "brand.update", subject, changes)


# Models whose rows never change (the database refuses it): poison() adds a row instead, through
# the writer the project uses. A new append-only model with text fails poison() until it is here.
APPEND_ONLY: dict[str, Callable[[dict[str, str]], None]] = {"core.AuditEntry": _hostile_audit_entry}


def _poison_json(value: Any, text: str) -> Any:
    """Every string inside `value` (keys stay: code reads them) becomes `text`."""
    if isinstance(value, str):
        return text
    if isinstance(value, list):
        return [_poison_json(item, text) for item in value]
    if isinstance(value, dict):
        return {key: _poison_json(item, text) for key, item in value.items()}
    return value


def poison() -> Poisoned:
    """Overwrite every user-editable text field of every row with a hostile payload (see module doc)."""
    result = Poisoned()
    counter = itertools.count(1)
    appended: dict[str, dict[str, str]] = {}
    for model in project_models():
        for fld in text_fields(model):
            label = f"{model._meta.label}.{fld.name}"
            if label in NOT_USER_TEXT:
                result.skipped[label] = NOT_USER_TEXT[label]
                continue
            if fld.choices:
                result.skipped[label] = "a value from a closed list (choices)"
                continue
            index = next(counter)
            text = payload_for(index, fld)
            if marker(index) not in text:
                result.skipped[label] = f"too short to carry a marker (max_length {fld.max_length})"
                continue
            if model._meta.label in APPEND_ONLY:
                appended.setdefault(model._meta.label, {})[fld.name] = text
                result.fields[marker(index)] = (label, frozenset({text}))
                continue
            manager: Any = model._default_manager
            if label in ROWS_LEFT_ALONE:
                keep, _why = ROWS_LEFT_ALONE[label]
                manager = manager.exclude(pk__in=keep(manager.all()).values("pk"))
            texts = {text}
            if isinstance(fld, models.JSONField):
                for pk, current in manager.values_list("pk", fld.attname):
                    poisoned = _poison_json(current, text)
                    if poisoned != current:
                        manager.filter(pk=pk).update(**{fld.attname: poisoned})
            else:
                try:
                    with transaction.atomic():
                        manager.update(**{fld.attname: text})
                except IntegrityError:  # unique, alone or with other fields: one text per row
                    limit = fld.max_length or len(text) + 20
                    # The first rows are enough (the sandbox has ten thousand accounts; the rest keep theirs).
                    for n, pk in enumerate(manager.order_by("pk").values_list("pk", flat=True)[:PER_ROW]):
                        suffix = f"~{n}"
                        one = text[: limit - len(suffix)] + suffix
                        manager.filter(pk=pk).update(**{fld.attname: one})
                        texts.add(one)
            result.fields[marker(index)] = (label, frozenset(texts))
    for model_label, texts_by_field in appended.items():
        APPEND_ONLY[model_label](texts_by_field)
    return result
