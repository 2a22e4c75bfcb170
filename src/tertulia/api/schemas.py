"""Request and response shapes.

Input limits mirror the model fields, so a value that is too long is refused
with 422 before it reaches the database (never truncated). Text is stored
verbatim — HTML, right-to-left marks, zero-width characters and emoji
included — except NUL and unpaired surrogates, which no database column can
hold and are refused with 422.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.utils.translation import gettext
from ninja import Field, Schema
from ninja.params.functions import Path as PathParam
from pydantic import AfterValidator, ConfigDict, StringConstraints, field_validator

from tertulia.api.scopes import Scope
from tertulia.core.models import ChannelStatus, Role
from tertulia.core.models.brand import Direction, Kpi

MAX_ID = 2**63 - 1
MAX_POSITIVE_INT = 2**31 - 1  # PositiveIntegerField on every supported database
LONG_TEXT = 20_000  # TextFields have no database limit; the API sets one


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError(gettext("must not contain NUL characters"))
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError(gettext("must not contain unpaired surrogate code points"))
    return value


def _utc(value: datetime) -> datetime:
    """Read a time without offset as UTC, and refuse times that do not fit in UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(gettext("is out of range")) from None


# A string any database can store verbatim; each field adds its length limits with Field().
Text = Annotated[str, AfterValidator(_storable)]
HandleText = Annotated[str, StringConstraints(min_length=1, max_length=255), AfterValidator(_storable)]
ScopeText = Annotated[str, StringConstraints(min_length=1, max_length=32), AfterValidator(_storable)]


Moment = Annotated[datetime, AfterValidator(_utc)]
ObjectId = Annotated[int, PathParam(..., ge=1, le=MAX_ID)]
UserId = Annotated[int, Field(ge=1, le=MAX_ID)]
Count = Annotated[int, Field(ge=0, le=MAX_POSITIVE_INT)]
Target = Annotated[Decimal, Field(max_digits=12, decimal_places=2)]


class Input(Schema):
    """Request bodies refuse unknown fields, so a misspelt field is an error rather than a silent no-op."""

    model_config = ConfigDict(extra="forbid")


class Patch(Input):
    """PATCH bodies: a field left out keeps its value; null is refused (no field here is nullable)."""

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError(gettext("must not be null; leave the field out to keep its value"))
        return value


# ---------------------------------------------------------------- people and organization


class UserOut(Schema):
    id: int
    email: str
    display_name: str


class OrganizationOut(Schema):
    id: int
    name: str
    slug: str
    created_at: datetime


class TokenSummary(Schema):
    name: str
    prefix: str
    expires_at: datetime | None


class MeOut(Schema):
    user: UserOut
    organization: OrganizationOut
    role: str
    scopes: list[str]
    token: TokenSummary


class MemberOut(Schema):
    id: int
    user: UserOut
    role: Role
    is_active: bool
    created_at: datetime


class MemberPatch(Patch):
    role: Role | None = Field(None, description="The member's new role.")
    is_active: bool | None = Field(None, description="false deactivates the member; true reactivates them.")


# ---------------------------------------------------------------- brands


class BrandOut(Schema):
    id: int
    name: str
    slug: str
    language: str
    timezone: str
    voice_guide: str
    audience: str
    reach_threshold: int
    is_archived: bool
    created_at: datetime


class BrandIn(Input):
    name: Text = Field(..., max_length=120, min_length=1)
    language: Text = Field("es", max_length=8, min_length=1)
    timezone: Text = Field("Europe/Madrid", max_length=64, min_length=1)
    voice_guide: Text = Field("", max_length=LONG_TEXT)
    audience: Text = Field("", max_length=LONG_TEXT)
    reach_threshold: Count = 5000


class BrandPatch(Patch):
    name: Text | None = Field(None, max_length=120, min_length=1)
    language: Text | None = Field(None, max_length=8, min_length=1)
    timezone: Text | None = Field(None, max_length=64, min_length=1)
    voice_guide: Text | None = Field(None, max_length=LONG_TEXT)
    audience: Text | None = Field(None, max_length=LONG_TEXT)
    reach_threshold: Count | None = Field(None)
    is_archived: bool | None = Field(None)


class CompetitorOut(Schema):
    id: int
    brand_id: int
    name: str
    handles: list[str]
    website: str
    notes: str


Handles = Annotated[list[HandleText], Field(max_length=50)]


class CompetitorIn(Input):
    name: Text = Field(..., max_length=120, min_length=1)
    handles: Handles = Field(default_factory=list)
    website: Text = Field("", max_length=200)
    notes: Text = Field("", max_length=LONG_TEXT)


class CompetitorPatch(Patch):
    name: Text | None = Field(None, max_length=120, min_length=1)
    handles: Handles | None = Field(None)
    website: Text | None = Field(None, max_length=200)
    notes: Text | None = Field(None, max_length=LONG_TEXT)


class ObjectiveOut(Schema):
    id: int
    brand_id: int
    title: str
    kpi: Kpi
    direction: Direction
    target: Decimal
    period_start: date
    period_end: date


class ObjectiveIn(Input):
    title: Text = Field(..., max_length=200, min_length=1)
    kpi: Kpi
    direction: Direction = Direction.AT_LEAST
    target: Target
    period_start: date
    period_end: date


class ObjectivePatch(Patch):
    title: Text | None = Field(None, max_length=200, min_length=1)
    kpi: Kpi | None = Field(None)
    direction: Direction | None = Field(None)
    target: Target | None = Field(None)
    period_start: date | None = Field(None)
    period_end: date | None = Field(None)


# ---------------------------------------------------------------- channels


class ChannelOut(Schema):
    id: int
    brand_id: int
    network: str
    handle: str
    display_name: str
    external_id: str
    status: ChannelStatus
    capabilities: list[str]
    operator_ids: list[int]
    created_at: datetime

    @staticmethod
    def resolve_operator_ids(obj: Any) -> list[int]:
        return sorted(grant.user_id for grant in obj.operator_grants.all())


class ChannelConnectIn(Input):
    network: Text = Field(..., max_length=32, min_length=1)
    handle: Text = Field(..., max_length=255, min_length=1)
    display_name: Text = Field("", max_length=255)
    app_password: Text = Field(
        "",
        max_length=255,
        description="For networks that sign in with an app password (Bluesky). Never stored.",
    )
    server: Text = Field("", max_length=255, description="The account's server, where the network has many.")


class AuthorizeIn(Input):
    network: Text = Field(..., max_length=32, min_length=1)
    server: Text = Field(
        "",
        max_length=255,
        description=(
            "The server, for networks with many: a Mastodon instance as `mastodon.social` or "
            "`https://mastodon.social` (Tertulia registers itself there on the first sign-in)."
        ),
    )


class AuthorizeOut(Schema):
    authorization_url: str = Field(
        description="Open it in a browser signed in to Tertulia as the same person."
    )
    expires_in: int = Field(description="Seconds left to complete the sign-in.")


class ChannelPatch(Input):
    status: ChannelStatus


class OperatorsIn(Input):
    user_ids: Annotated[list[UserId], Field(max_length=1000)]


class OperatorsOut(Schema):
    user_ids: list[int]


# ---------------------------------------------------------------- contacts


class HandleOut(Schema):
    id: int
    network: str
    handle: str
    followers_count: int
    profile_url: str


class ContactOut(Schema):
    id: int
    display_name: str
    is_customer: bool
    is_vip: bool
    notes: str
    followers: int
    handles: list[HandleOut]
    created_at: datetime
    updated_at: datetime


class ContactIn(Input):
    display_name: Text = Field(..., max_length=255, min_length=1)
    is_customer: bool = False
    is_vip: bool = Field(False, description="Marked by hand: treat with care whatever their reach.")
    notes: Text = Field("", max_length=LONG_TEXT)


class ContactPatch(Patch):
    display_name: Text | None = Field(None, max_length=255, min_length=1)
    is_customer: bool | None = Field(None)
    is_vip: bool | None = Field(None)
    notes: Text | None = Field(None, max_length=LONG_TEXT)


class HandleIn(Input):
    network: Text = Field(..., max_length=32, min_length=1)
    handle: Text = Field(..., max_length=255, min_length=1)
    followers_count: Count = 0
    profile_url: Text = Field("", max_length=200)


class ContactMergeIn(Input):
    other: int = Field(..., ge=1, le=MAX_ID, description="The contact to merge into this one; it is removed.")
    reason: Text = Field("", max_length=255, description="Why they are the same person (audited).")


class ProfileHandleOut(Schema):
    id: int
    network: str
    handle: str
    followers: int
    profile_url: str


class ProfileConversationOut(Schema):
    id: int
    channel_id: int
    channel_handle: str
    network: str
    kind: str
    status: str
    intent: str
    sentiment: str
    preview: str
    message_count: int
    last_message_at: datetime


class ContactHistoryOut(Schema):
    conversations: int = Field(description="Conversations they started or wrote in.")
    recent_conversations: int = Field(description="Conversations they wrote in during the last 90 days.")
    messages_in: int = Field(description="Messages they wrote to the brand.")
    messages_out: int = Field(description="Messages of the brand in their conversations.")
    first_contact_at: datetime | None
    last_contact_at: datetime | None
    sentiments: dict[str, int] = Field(description="Their messages by sentiment.")
    intents: dict[str, int] = Field(description="Their messages by intent.")
    latest: list[ProfileConversationOut] = Field(
        description="Newest activity first; only on channels the token's owner may operate."
    )


class ContactProfileOut(Schema):
    contact_id: int
    brand_id: int
    display_name: str
    notes: str
    handles: list[ProfileHandleOut]
    reach: int = Field(description="The largest audience among the handles.")
    customer: bool
    vip: bool = Field(description="Marked by hand.")
    influencer: bool = Field(description="Reach at or above the brand's reach threshold.")
    regular: bool = Field(description="3 or more conversations in the last 90 days.")
    important: bool = Field(description="Customer, VIP or influencer.")
    history: ContactHistoryOut


# ---------------------------------------------------------------- audit


class AuditOut(Schema):
    id: int
    created_at: datetime
    actor_id: int | None
    actor_label: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    changes: dict[str, Any]
    via: str
    ip_address: str | None
    sequence: int = Field(..., description="The entry's number in the organization's hash chain")
    previous_hash: str = Field(..., description="The hash of entry sequence - 1 (64 zeros for the first)")
    hash: str = Field(..., description="SHA-256 of the canonical record (docs/audit.md)")


# ---------------------------------------------------------------- tokens


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The token itself. Shown once: store it now, it cannot be shown again.")


class TokenIn(Input):
    name: Text = Field(..., max_length=100, min_length=1)
    scopes: Annotated[list[ScopeText], Field(min_length=1, max_length=len(Scope))]
    expires_at: Moment | None = Field(None, description="Optional; a time without offset is read as UTC.")


class RehearsalIn(Input):
    topic: Annotated[str, StringConstraints(max_length=120), AfterValidator(_storable)] = Field(
        "", description="What the surge is about; empty picks one of the simulator's crisis topics."
    )
    minutes: int = Field(15, ge=1, le=24 * 60, description="How long the surge lasts.")
    multiplier: int = Field(8, ge=2, le=100, description="Times the channel's usual traffic.")


class RehearsalOut(Schema):
    topic: str
    started_at: datetime
    ends_at: datetime
    multiplier: int
    is_active: bool


class Message(Schema):
    detail: str
