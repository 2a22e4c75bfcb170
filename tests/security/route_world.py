"""A seeded world for the route walker: two organizations, one of every kind of object, every role.

Organization A ("Acme") has two brands: A1, where one of every kind of object lives, and A2. Its
members hold every role (all brands), plus a brand manager limited to A2 who also holds a stale
operator grant on A1's channel (a limited member operates nothing outside their brands). Organization
B ("Rival") is the outsider's: its owner uses A's ids.

Every object's visible text carries a marker: `a1mark…` for what belongs to brand A1, `a2mark…` for
brand A2, `aomark…` for what belongs to organization A as a whole (people, contacts, tags, sources).
The walker searches every response for the markers a subject must never see.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

from django.apps import apps
from django.test import Client
from django.utils import timezone
from PIL import Image

from tertulia.api.actions import create_token
from tertulia.api.models import ApiToken
from tertulia.api.scopes import ALL_SCOPES
from tertulia.connectors.base import ConnectedAccount, InboundItem, InboundKind, RemoteAuthor
from tertulia.core.actions import brands as brand_actions
from tertulia.core.actions import channels as channel_actions
from tertulia.core.actions import contacts as contact_actions
from tertulia.core.actions.context import Actor
from tertulia.core.actions.organizations import add_member, create_organization
from tertulia.core.models import (
    Brand,
    BrandAccess,
    Channel,
    ContactHandle,
    Membership,
    Organization,
    Role,
    User,
)
from tertulia.inbox.actions import settings as inbox_settings
from tertulia.inbox.actions.assignment import assign
from tertulia.inbox.actions.notes import add_note
from tertulia.inbox.actions.tags import change_tags
from tertulia.inbox.ingest.pipeline import ingest
from tertulia.inbox.models import Conversation, Message, Tag
from tertulia.listening import ingest as listening_ingest
from tertulia.listening.actions.alerts import create_alert
from tertulia.listening.actions.queries import create_query
from tertulia.listening.actions.sources import add_source
from tertulia.moderation.actions.log import log_action
from tertulia.moderation.actions.rules import create_rule
from tertulia.publishing.actions import review
from tertulia.publishing.actions.compose import DraftSpec, VariantSpec, create_post
from tertulia.publishing.actions.media import upload_image
from tertulia.publishing.actions.pauses import pause
from tertulia.publishing.actions.queue import set_slots
from tertulia.publishing.actions.workflows import StepSpec, set_workflow
from tertulia.publishing.delivery.ledger import enqueue
from tertulia.publishing.models import Post, PostState, Variant

SYSTEM = Actor.system("route walker")
MARKER = re.compile(r"\b(a1mark|a2mark|aomark|bomark)[a-z0-9]*")
# Subjects that are not one of the organization's roles.
ANONYMOUS = "anonymous"
OUTSIDER = "outsider"  # owner of organization B, using A's ids
LIMITED = "limited"  # brand manager of A limited to brand A2 (with a stale grant on A1's channel)


@dataclass
class Subject:
    name: str
    user: User | None
    role: str | None
    client: Client
    token: str | None
    # Marker prefixes this subject must never see in a response.
    forbidden: tuple[str, ...] = ()


@dataclass
class World:
    org: Organization
    other: Organization
    a1: Brand
    a2: Brand
    people: dict[str, User]
    subjects: dict[str, Subject]
    objects: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Parameter] = field(default_factory=dict)

    def subject(self, name: str) -> Subject:
        return self.subjects[name]


def _image(shade: int) -> bytes:
    picture = Image.new("RGB", (240, 240), (shade, 120, 200))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def _person(email: str, name: str) -> User:
    return User.objects.create_user(email=email, password=None, display_name=name)


def _member(org: Organization, role: str, slug: str, marker: str) -> User:
    user = _person(f"{role}@{slug}.test", f"{role} {marker}person{role.replace('_', '')}")
    add_member(SYSTEM, org, user, role)
    return user


def _inbound(channel: Channel, text: str, author: str, name: str, key: str, n: int) -> None:
    ingest(
        channel,
        [
            InboundItem(
                remote_id=f"{channel.handle}-{n}",
                kind=InboundKind.MENTION,
                author=RemoteAuthor(remote_id=f"id-{author}", handle=author, display_name=name),
                text=text,
                created_at=timezone.now() - timedelta(minutes=30 - n),
                conversation_key=key,
            )
        ],
    )


def _token(user: User, org: Organization) -> str:
    """A token carrying every scope, whatever the owner's role: the role must still be checked."""
    member = Membership.objects.get(user=user, organization=org)
    scopes = ["organization:read"]
    token, plaintext = create_token(SYSTEM, user, org, "route walker", scopes)
    ApiToken.objects.filter(pk=token.pk).update(scopes=list(ALL_SCOPES))
    assert member.is_active
    return plaintext


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _brand_a1_objects(world: World, a1: Brand, people: dict[str, User]) -> None:
    owner = Actor(user=people[Role.OWNER], via="web")
    manager = Actor(user=people[Role.BRAND_MANAGER], via="web")
    cm = Actor(user=people[Role.COMMUNITY_MANAGER], via="web")
    contributor = Actor(user=people[Role.CONTRIBUTOR], via="web")
    org = a1.organization
    o = world.objects

    channel = channel_actions.connect_channel(SYSTEM, a1, "sandbox", "a1markchannel", "a1markchannelname")
    channel_actions.set_channel_operators(
        SYSTEM,
        channel,
        [
            people[Role.BRAND_MANAGER],
            people[Role.COMMUNITY_MANAGER],
            people[Role.CONTRIBUTOR],
            people[LIMITED],
        ],
    )
    o["channel"] = channel
    o["competitor"] = brand_actions.add_competitor(SYSTEM, a1, name="a1markcompetitor")
    o["objective"] = brand_actions.add_objective(
        SYSTEM,
        a1,
        title="a1markobjective",
        kpi="sla_met",
        direction="at_least",
        target=95,
        period_start=timezone.localdate(),
        period_end=timezone.localdate() + timedelta(days=60),
    )

    # Inbox: a customer writes twice (one conversation), a note, a tag, an assignment (a notification).
    _inbound(channel, "a1markmessage hola, mi pedido no llega", "aomarkauthor", "aomarkauthorname", "k1", 1)
    _inbound(channel, "a1markmessagetwo sigo esperando", "aomarkauthor", "aomarkauthorname", "k1", 2)
    conversation = Conversation.objects.get(channel=channel, key="k1")
    o["conversation"] = conversation
    o["message"] = Message.objects.filter(conversation=conversation).order_by("pk").first()
    o["note"] = add_note(cm, conversation, "a1marknote revisado")
    change_tags(cm, conversation, add=["aomarktag"])
    o["tag"] = Tag.objects.get(organization=org, name="aomarktag")
    assign(owner, conversation, people[Role.COMMUNITY_MANAGER])
    contact = conversation.contact
    assert contact is not None
    o["contact"] = contact
    o["handle"] = ContactHandle.objects.filter(contact=contact).first()
    o["saved_reply"] = inbox_settings.save_saved_reply(
        SYSTEM, a1, shortcut="a1markreply", language="es", title="a1markreplytitle", body="a1markreplybody"
    )
    inbox_settings.update_sla_policy(SYSTEM, a1, first_response_minutes=60)

    # Publishing: an image, a proposal in review, a scheduled post, its delivery, a pause, a workflow, slots.
    asset, _new = upload_image(cm, a1, _image(10), "a1markimage.png", alt_text="a1markalt")
    o["asset"] = asset
    proposal = create_post(
        contributor,
        a1,
        DraftSpec(
            text="a1markproposal texto", title="a1markproposaltitle", variants=[VariantSpec(channel.pk)]
        ),
    )
    o["post"] = review.submit(contributor, proposal)
    review.comment(owner, o["post"], "a1markcomment")
    scheduled = Post.objects.create(
        organization=org,
        brand=a1,
        created_by=people[Role.COMMUNITY_MANAGER],
        title="a1markscheduledtitle",
        text="a1markscheduled",
        state=PostState.SCHEDULED,
    )
    variant = Variant.objects.create(post=scheduled, channel=channel)
    targets = enqueue(
        scheduled, timezone.now() + timedelta(days=2), {variant.pk: {"text": "a1markscheduled", "media": []}}
    )
    o["scheduled"] = scheduled
    o["target"] = targets[0]
    o["draft"] = create_post(
        cm, a1, DraftSpec(text="a1markdraft", title="a1markdrafttitle", variants=[VariantSpec(channel.pk)])
    )
    set_slots(manager, channel, [(0, time(10, 0)), (2, time(17, 30))])
    o["workflow"] = set_workflow(
        manager, a1, "crisis", [StepSpec(name="a1markstep", roles=[Role.APPROVER])], is_active=False
    )
    o["pause"] = pause(manager, org, a1, reason="a1markpause")

    # Listening: a query with what it found, an alert, an organization-wide source.
    query = create_query(
        manager, a1, name="a1markquery", text='"a1markquerytext" OR aomarkmention', group="brand"
    )
    o["query"] = query
    listening_ingest.store_for_query(
        query,
        [
            listening_ingest.Item(
                network="mastodon",
                remote_id="aomarkmention-1",
                text="aomarkmention dice algo de la marca",
                published_at=timezone.now() - timedelta(hours=3),
                author_handle="aomarkmentionauthor",
            )
        ],
    )
    o["alert"] = create_alert(
        manager, query, kind="volume", threshold=50, recipients=[people[Role.BRAND_MANAGER]]
    )
    o["source"] = add_source(
        owner, org, kind="feed", url="https://feeds.example.org/aomarksource.xml", name="aomarksource"
    )

    # Moderation: a rule, and a delete awaiting a second person's approval.
    o["rule"] = create_rule(
        manager,
        a1,
        name="a1markrule",
        conditions={"text_matches": ["a1markspam"]},
        actions=[{"type": "hide"}],
    )
    o["moderation_action"] = log_action(
        cm,
        message=o["message"],
        conversation=conversation,
        action_type="delete",
        status="awaiting_approval",
        reason="a1markmoderation",
        requested_by=people[Role.COMMUNITY_MANAGER],
    )


def _choice(user: User, brand: Brand) -> Any:
    from tertulia.connectors import choices
    from tertulia.connectors.base import AccountInfo

    account = ConnectedAccount(
        info=AccountInfo(external_id="x-a1mark", handle="a1markchoice", display_name="a1markchoicename"),
        credentials={"token": "not-a-real-secret"},
    )
    return choices.park(user, brand, "mastodon", "https://mastodon.example", account)


def _other_apps(world: World, owner: User) -> None:
    """What the governance, guard, sign-in and webhook apps keep, made through their actions (their
    secrets are sealed and their states have rules, so generic rows would not do)."""
    actor = Actor(user=owner, via="web")
    org, channel = world.org, world.objects["channel"]
    if apps.is_installed("tertulia.accounts"):
        from tertulia.accounts.actions.sso import SsoSettings, save_connection

        settings = SsoSettings(
            "aomarksso", "https://login.example.com", "walker", "walker-secret", ("acme.test",)
        )
        save_connection(actor, org, settings)
    if apps.is_installed("tertulia.webhooks"):
        from tertulia.webhooks import events as webhook_events
        from tertulia.webhooks.actions import create_endpoint

        every = [event.name for event in webhook_events.subscribable()]
        create_endpoint(actor, org, name="aomarkhook", url="https://93.184.216.34/hook", event_types=every)
    if apps.is_installed("tertulia.governance"):
        from tertulia.governance.actions.invitations import invite

        invite(
            actor,
            org,
            "new@acme.test",
            Role.ANALYST,
            site_url="http://testserver",
            all_brands=False,
            brands=[world.a1],
        )
    if apps.is_installed("tertulia.guard"):
        from tertulia.guard.actions.incidents import report_compromised

        world.objects["incident"] = report_compromised(actor, channel, "a1markincident")


def build_world() -> World:
    """Everything the walker needs, made once per test module (rolled back after it)."""
    owner = _person("owner@acme.test", "owner aomarkpersonowner")
    org = create_organization(SYSTEM, "Acme aomarkorg", owner)
    people: dict[str, User] = {Role.OWNER.value: owner}
    for role in Role:
        if role != Role.OWNER:
            people[role.value] = _member(org, role.value, "acme", "aomark")
    a1 = brand_actions.create_brand(SYSTEM, org, name="Alfa a1markbrand")
    a2 = brand_actions.create_brand(SYSTEM, org, name="Beta a2markbrand")

    limited = _member(org, Role.BRAND_MANAGER.value, "limited.acme", "aomark")
    people[LIMITED] = limited
    member = Membership.objects.get(user=limited, organization=org)
    Membership.objects.filter(pk=member.pk).update(all_brands=False)
    BrandAccess.objects.create(membership=member, brand=a2)

    outsider = _person("owner@rival.test", "owner bomarkperson")
    other = create_organization(SYSTEM, "Rival bomarkorg", outsider)
    b1 = brand_actions.create_brand(SYSTEM, other, name="Rival bomarkbrand")
    b_channel = channel_actions.connect_channel(SYSTEM, b1, "sandbox", "bomarkchannel", "bomark")
    contact_actions.create_contact(SYSTEM, other, display_name="bomarkcontact")

    world = World(org=org, other=other, a1=a1, a2=a2, people=people, subjects={})
    _brand_a1_objects(world, a1, people)
    a2_channel = channel_actions.connect_channel(SYSTEM, a2, "sandbox", "a2markchannel", "a2markchannelname")
    channel_actions.set_channel_operators(SYSTEM, a2_channel, [limited, people[Role.COMMUNITY_MANAGER]])
    _inbound(a2_channel, "a2markmessage buenas", "aomarkauthortwo", "aomarkauthortwoname", "k2", 3)
    world.objects["a2_channel"] = a2_channel
    world.objects["b_channel"] = b_channel
    world.objects["member"] = Membership.objects.get(user=people[Role.CONTRIBUTOR], organization=org)
    world.objects["choice"] = _choice(owner, a1)
    contact_actions.create_contact(SYSTEM, org, display_name="aomarkcontact")
    _other_apps(world, owner)

    everything_of_a = ("a1mark", "a2mark", "aomark")
    for role in Role:
        user = people[role.value]
        world.subjects[role.value] = Subject(role.value, user, role.value, _client(user), _token(user, org))
    world.subjects[LIMITED] = Subject(
        LIMITED, limited, Role.BRAND_MANAGER.value, _client(limited), _token(limited, org), ("a1mark",)
    )
    world.subjects[OUTSIDER] = Subject(
        OUTSIDER, outsider, None, _client(outsider), _token(outsider, other), everything_of_a
    )
    world.subjects[ANONYMOUS] = Subject(
        ANONYMOUS, None, None, _client(None), None, (*everything_of_a, "bomark")
    )
    # The token the walker revokes and the owner's own token list use this one.
    world.objects["token"] = ApiToken.objects.filter(user=owner, organization=org).first()
    return world


# Kinds of objects the URL parameters name, and what each belongs to: brand A1, or organization A as
# a whole (contacts are people, shared by every brand; tags, sources and members too).
A1_SCOPED = {
    "brand",
    "channel",
    "competitor",
    "objective",
    "conversation",
    "message",
    "post",
    "target",
    "asset",
    "query",
    "alert",
    "rule",
    "moderation_action",
    "saved_reply",
    "pause",
}
ORG_WIDE = {"contact", "handle", "tag", "source", "member"}
# One person's own (a pending choice of account, an API token): anyone else finds nothing to see or change.
PERSONAL = {"choice", "token"}

# URL parameter name → the kind of object of the world it names.
PARAMETERS = {
    "brand_id": "brand",
    "channel_id": "channel",
    "competitor_id": "competitor",
    "objective_id": "objective",
    "conversation_id": "conversation",
    "message_id": "message",
    "post_id": "post",
    "target_id": "target",
    "delivery_id": "target",
    "asset_id": "asset",
    "query_id": "query",
    "alert_id": "alert",
    "rule_id": "rule",
    "action_id": "moderation_action",
    "reply_id": "saved_reply",
    "pause_id": "pause",
    "choice_id": "choice",
    "contact_id": "contact",
    "handle_id": "handle",
    "tag_id": "tag",
    "source_id": "source",
    "member_id": "member",
    "token_id": "token",
}
# Parameters that name no object of an organization: a value the route accepts. An SSO provider is
# left unknown: signing in through one reaches the identity provider, which the tests of
# tertulia.accounts run for real (the walker stays on this machine).
CONSTANTS = {
    "kind": "crisis",
    "network": "sandbox",
    "provider_id": "walker-unknown-provider",
    "table": "channels",  # an analytics CSV export
}


@dataclass(frozen=True)
class Parameter:
    value: str
    scope: str  # "a1" (brand A1's), "org" (organization A's, every brand's), "personal", "none"


def _brand_id_of(row: Any) -> int | None:
    for path in ("brand_id", "channel.brand_id", "post.brand_id", "conversation.brand_id", "query.brand_id"):
        value: Any = row
        for part in path.split("."):
            value = getattr(value, part, None)
        if isinstance(value, int):
            return value
    return None


def _scope_of(world: World, row: Any) -> str:
    from tests.security.routes import organization_path

    if type(row) is Brand:
        return "a1" if row.pk == world.a1.pk else "org"
    brand_id = _brand_id_of(row)
    if brand_id is not None:
        return "a1" if brand_id == world.a1.pk else "org"
    model: Any = type(row)  # a model class: hashable, whatever the stubs say
    return "org" if organization_path(model) is not None else "personal"


def _shared_parameter(world: World, name: str) -> Parameter | None:
    """A parameter this module does not know: what the CSRF and escaping suites use (one object of the
    model the parameter names, made generically in organization A if it has none), or None."""
    from tests.security import routes as shared
    from tests.security.seed import generic_row

    if name in shared.CONSTANTS:
        return Parameter(str(shared.CONSTANTS[name]), "none")
    if name in shared.BY_FIELD:
        label, field_name = shared.BY_FIELD[name]
        owner_model = apps.get_model(label)
        row = shared.in_organization(owner_model, world.org).order_by("pk").first()
        row = row or generic_row(owner_model, world.org)
        return Parameter(str(getattr(row, field_name)), _scope_of(world, row))
    model = shared.model_for(name)
    if model is None:
        return None
    row = shared.in_organization(model, world.org).order_by("pk").first() or generic_row(model, world.org)
    return Parameter(str(row.pk), _scope_of(world, row))


def prepare_parameters(world: World, names: set[str]) -> None:
    """Resolve every URL parameter once, while the world is built (rows made here last the whole module)."""
    for name in sorted(names):
        if name in CONSTANTS:
            world.parameters[name] = Parameter(CONSTANTS[name], "none")
        elif name in PARAMETERS:
            kind = PARAMETERS[name]
            row = world.a1 if kind == "brand" else world.objects[kind]
            scope = "a1" if kind in A1_SCOPED else "personal" if kind in PERSONAL else "org"
            world.parameters[name] = Parameter(str(row.pk), scope)
        else:
            found = _shared_parameter(world, name)
            if found is not None:
                world.parameters[name] = found


# What a request body may refer to by id, filled with the world's objects.
def body_ids(world: World) -> dict[str, Any]:
    o = world.objects
    return {
        "brand_id": world.a1.pk,
        "brand": world.a1.pk,
        "channel_id": o["channel"].pk,
        "channel_ids": [o["channel"].pk],
        "channels": [o["channel"].pk],
        "user_ids": [world.people[Role.COMMUNITY_MANAGER].pk],
        "people": [world.people[Role.APPROVER].pk],
        "recipients": [world.people[Role.BRAND_MANAGER].pk],
        "assignee_id": world.people[Role.COMMUNITY_MANAGER].pk,
        "assignee": world.people[Role.COMMUNITY_MANAGER].pk,
        "escalate_to": world.people[Role.BRAND_MANAGER].pk,
        "ids": [o["conversation"].pk],
        "conversation_ids": [o["conversation"].pk],
        "media": [o["asset"].pk],
        "other": o["contact"].pk,
        "query_id": o["query"].pk,
    }
