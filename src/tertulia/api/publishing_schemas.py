"""Request and response shapes of the publishing endpoints (tertulia.api.routers.publishing_*).

Limits mirror the publishing actions' own (`tertulia.publishing.actions.*`), so what no post could
hold is refused with 422 before an action runs; what only the actions can judge (a channel of
another brand, a time already past, a role that cannot approve) they refuse, in the caller's
language.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Field, Schema

from tertulia.api.schemas import LONG_TEXT, MAX_ID, MAX_POSITIVE_INT, Input, Moment, Patch, Text, UserId
from tertulia.core.models import Role
from tertulia.publishing.actions.compose import MAX_CAMPAIGN, MAX_CHANNELS, MAX_IMAGES, MAX_TEXT, MAX_TITLE
from tertulia.publishing.actions.pauses import MAX_REASON
from tertulia.publishing.actions.review import MAX_COMMENT
from tertulia.publishing.actions.workflows import MAX_STEP_NAME, MAX_STEPS
from tertulia.publishing.models import (
    DeliveryAttempt,
    DeliveryTarget,
    PostState,
    StepMode,
    Variant,
    WorkflowKind,
)
from tertulia.publishing.rules.placements import Placement

RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=MAX_POSITIVE_INT)]

# ---------------------------------------------------------------- writing posts


class VariantIn(Input):
    channel_id: RecordId = Field(description="A channel of the post's brand; each channel once per post.")
    text: Text = Field(
        "",
        max_length=MAX_TEXT,
        description="This channel's own text, when the post's does not fit its network; empty: the post's.",
    )
    placement: Placement | None = Field(
        None,
        description=(
            "How images are cropped on this channel: square (1:1), portrait (4:5), landscape (1.91:1) "
            "or story (9:16); null: the network's usual format."
        ),
    )


class DraftIn(Input):
    text: Text = Field(
        "",
        max_length=MAX_TEXT,
        description="The post's text, for every channel without its own; stored exactly as sent.",
    )
    title: Text = Field("", max_length=MAX_TITLE, description="An internal title; never published.")
    utm_campaign: Text = Field(
        "",
        max_length=MAX_CAMPAIGN,
        description=(
            "With a campaign, every http(s) link gets utm_source=<network>, utm_medium=social and "
            "utm_campaign=<campaign> (a link that has utm_source already is left as written)."
        ),
    )
    scheduled_at: Moment | None = Field(
        None,
        description=(
            "When to publish: a wish until the post is approved and scheduled. Not in the past; "
            "a time without offset is read as UTC."
        ),
    )
    variants: list[VariantIn] = Field(
        default_factory=list, max_length=MAX_CHANNELS, description="One per channel the post goes to."
    )
    media: list[RecordId] = Field(
        default_factory=list,
        max_length=MAX_IMAGES,
        description="Ids of images of the brand's media library, in the order they are shown.",
    )


class DraftPut(DraftIn):
    version: Version = Field(
        description=(
            "The version you edited (from the post you read). If someone saved another version since, "
            "nothing is written and the answer is 409 `version_conflict`."
        )
    )


class DecisionIn(Input):
    version: Version = Field(
        description="The version you reviewed; 409 `version_conflict` if the post changed since."
    )
    comment: Text = Field("", max_length=MAX_COMMENT, description="Optional; the author sees it.")


class ChangesIn(Input):
    version: Version = Field(
        description="The version you reviewed; 409 `version_conflict` if the post changed since."
    )
    comment: Text = Field(..., min_length=1, max_length=MAX_COMMENT, description="What to change (required).")


class CommentIn(Input):
    text: Text = Field(
        ..., min_length=1, max_length=MAX_COMMENT, description="Kept exactly as written; never published."
    )


class ScheduleIn(Input):
    scheduled_at: Moment | None = Field(
        None,
        description=(
            "When to publish; null or left out: now. Not in the past; a time without offset is read as UTC. "
            "A scheduled post is moved to the new time."
        ),
    )


class ConfirmIn(Input):
    url: Text = Field(
        "",
        max_length=500,
        description="Where the post is on the network (https:// or http://); may be left empty.",
    )


# ---------------------------------------------------------------- posts as read


class PostOut(Schema):
    id: int = Field(description="The post's id.")
    brand_id: int = Field(description="The brand it is written for.")
    title: str = Field(description="Internal; never published.")
    text: str = Field(description="The post's text, as written.")
    utm_campaign: str = Field(description="The campaign added to its links; empty: none.")
    state: PostState = Field(
        description=(
            "draft → in_review → (changes_requested) → approved → scheduled → published, or partial "
            "(some channels published, others failed), failed, cancelled."
        )
    )
    version: int = Field(description="Bumped by every edit and every new review round.")
    scheduled_at: datetime | None = Field(
        description="When it is to be published, or was; null: no time yet."
    )
    created_by_id: int | None = Field(description="User id of its author.")
    submitted_at: datetime | None = Field(description="When it was last sent for review.")
    approved_at: datetime | None = Field(description="When its review was completed.")
    created_at: datetime = Field(description="When it was written.")
    updated_at: datetime = Field(description="When it last changed.")
    channel_ids: list[int] = Field(description="The channels it goes to.")

    @staticmethod
    def resolve_channel_ids(obj: Any) -> list[int]:
        if isinstance(obj, dict):
            return list(obj["channel_ids"])
        return sorted(variant.channel_id for variant in obj.variants.all())


class VariantOut(Schema):
    id: int = Field(description="The variant's id.")
    channel_id: int = Field(description="The channel it goes to.")
    channel_handle: str = Field(description="The channel's handle on its network.")
    network: str = Field(description="The channel's network (sandbox, bluesky, mastodon, x…).")
    text: str = Field(description="The channel's own text; empty: the post's text.")
    placement: str = Field(description="The image format chosen here; empty: the network's usual one.")

    @staticmethod
    def resolve_channel_handle(obj: Variant) -> str:
        return obj.channel.handle

    @staticmethod
    def resolve_network(obj: Variant) -> str:
        return obj.channel.network


class PostMediaOut(Schema):
    asset_id: int = Field(description="The image's id in the media library.")
    position: int = Field(description="Its place among the post's images, from 0.")
    original_name: str = Field(description="The file name it was uploaded with.")
    mime_type: str = Field(description="image/jpeg, image/png, image/gif or image/webp.")
    width: int = Field(description="In pixels, as people see it.")
    height: int = Field(description="In pixels, as people see it.")
    alt_text: str = Field(description="Its description for people who cannot see it.")
    focal_x: float = Field(description="Where the subject is, from the left (0..1).")
    focal_y: float = Field(description="Where the subject is, from the top (0..1).")


class AttemptOut(Schema):
    started_at: datetime = Field(description="When the worker took the delivery.")
    finished_at: datetime = Field(description="When the attempt ended.")
    outcome: str = Field(
        description=(
            "sent, reconciled (found already published), retry, rate_limited, paused, failed, "
            "needs_attention or lease_lost."
        )
    )
    error: str = Field(description="What went wrong, as the network said it; empty: nothing.")


class DeliveryOut(Schema):
    id: int = Field(description="The delivery's id.")
    post_id: int = Field(description="The post it belongs to.")
    channel_id: int = Field(description="The channel it goes to.")
    channel_handle: str = Field(description="The channel's handle on its network.")
    network: str = Field(description="The channel's network.")
    state: str = Field(
        description="scheduled, due, claimed (sending), sent, failed, needs_attention or cancelled."
    )
    text: str = Field(description="The text frozen when the post was scheduled: what the network gets.")
    due_at: datetime = Field(description="When it is to be published.")
    next_attempt_at: datetime = Field(
        description="When a worker may next take it (after a backoff or a rate limit)."
    )
    attempts: int = Field(description="How many times it was tried.")
    first_attempt_at: datetime | None = Field(description="When it was first tried.")
    sent_at: datetime | None = Field(description="When it was published.")
    remote_id: str = Field(description="The post's id on the network, once published.")
    url: str = Field(description="The published post's address.")
    maybe_sent: bool = Field(
        description="The network may have it already: a retry looks for it before sending again."
    )
    error_kind: str = Field(
        description="content, channel (reconnect it), rate_limit, temporary or uncertain; empty: none."
    )
    last_error: str = Field(description="What went wrong last; empty: nothing.")
    history: list[AttemptOut] = Field(description="Every attempt, oldest first.")

    @staticmethod
    def resolve_channel_handle(obj: DeliveryTarget) -> str:
        return obj.channel.handle

    @staticmethod
    def resolve_network(obj: DeliveryTarget) -> str:
        return obj.channel.network

    @staticmethod
    def resolve_text(obj: DeliveryTarget) -> str:
        payload = obj.payload if isinstance(obj.payload, dict) else {}
        return str(payload.get("text", ""))

    @staticmethod
    def resolve_history(obj: DeliveryTarget) -> list[DeliveryAttempt]:
        return list(obj.history.all())


class DecisionOut(Schema):
    id: int = Field(description="The decision's id.")
    version: int = Field(description="The version of the post decided on.")
    step_position: int = Field(description="The step it was taken at, from 1.")
    step_name: str = Field(description="The step's name when it was taken.")
    user_id: int | None = Field(description="User id of who decided.")
    decision: str = Field(description="approve or request_changes.")
    comment: str = Field(description="What they said; may be empty.")
    created_at: datetime = Field(description="When it was taken.")


class StepOut(Schema):
    position: int = Field(description="From 1.")
    name: str = Field(description="The step's name.")
    mode: str = Field(description="any (one approver) or all (every approver).")
    approver_ids: list[int] = Field(description="Who may decide on this step now (never the author).")


class ReviewOut(Schema):
    workflow_id: int | None = Field(description="null: a built-in rule (or no review).")
    workflow_kind: str | None = Field(description="normal or crisis; null: a built-in rule.")
    current_step: StepOut | None = Field(description="The step the post waits on; null when not in review.")
    you_may_decide: bool = Field(description="The token's owner may approve or request changes now.")
    decisions: list[DecisionOut] = Field(description="Every decision on every version, oldest first.")


class CommentOut(Schema):
    id: int = Field(description="The comment's id.")
    author_id: int | None = Field(description="User id of who wrote it.")
    text: str = Field(description="As written.")
    version: int = Field(description="The version the comment was written on.")
    created_at: datetime = Field(description="When it was written.")


class PostDetailOut(PostOut):
    variants: list[VariantOut] = Field(description="One per channel, by network and handle.")
    media: list[PostMediaOut] = Field(description="The post's images, in order.")
    deliveries: list[DeliveryOut] = Field(description="One per channel once the post is scheduled.")
    review: ReviewOut = Field(description="Where the post's review stands.")
    comments: list[CommentOut] = Field(description="The review discussion, oldest first.")


class PostFilter(Schema):
    brand_id: int | None = Field(None, ge=1, le=MAX_ID, description="Only this brand's posts.")
    state: list[PostState] = Field(default_factory=list, description="Repeat for several; none: every state.")
    scheduled_from: Moment | None = Field(None, description="Only posts whose time is at or after this.")
    scheduled_to: Moment | None = Field(None, description="Only posts whose time is before this.")
    author: Text = Field("", max_length=20, description="`me`, or a user id.")


# ---------------------------------------------------------------- checking a draft


class EntityOut(Schema):
    text: str = Field(description="As written, sigil included.")
    start: int = Field(description="Offset in the text, in Unicode code points.")
    end: int = Field(description="Offset just past it, in Unicode code points.")


class VerdictOut(Schema):
    channel_id: int = Field(description="The channel.")
    channel_handle: str = Field(description="The channel's handle on its network.")
    network: str = Field(description="The channel's network.")
    network_name: str = Field(description="The network's name, as people read it.")
    text: str = Field(description="As it would be sent: the channel's text or the post's, UTM tags added.")
    own_text: bool = Field(description="The channel has its own text (not the post's).")
    length: int | None = Field(description="As the network counts (see `unit`); null if it cannot publish.")
    limit: int | None = Field(description="The network's limit, in `unit`.")
    unit: str | None = Field(description="characters, graphemes or weighted_characters.")
    remaining: int | None = Field(description="Negative when over the limit.")
    hashtags: list[EntityOut] = Field(description="Hashtags as the network finds them.")
    mentions: list[EntityOut] = Field(description="@mentions.")
    links: list[EntityOut] = Field(description="http(s) links (each gets the UTM tags).")
    errors: list[str] = Field(description="What the network would refuse; a post with any cannot go out.")
    warnings: list[str] = Field(
        description="What it would take but deserves a look (no alt text, hidden characters)."
    )
    placement: str | None = Field(description="The image format used here; null without images.")
    placements: list[str] = Field(description="The image formats this network takes.")
    ok: bool = Field(description="No errors: this channel takes the post.")


class CheckOut(Schema):
    ok: bool = Field(description="Every channel takes the post as it is, and there is at least one.")
    errors: list[str] = Field(description="Problems of the post as a whole (no channel chosen).")
    channels: list[VerdictOut] = Field(description="One verdict per channel, in the order sent.")


# ---------------------------------------------------------------- media library


class MediaOut(Schema):
    id: int = Field(description="The image's id.")
    brand_id: int = Field(description="The brand whose library holds it.")
    original_name: str = Field(description="As uploaded; the file is stored under its content's hash.")
    mime_type: str = Field(description="From the bytes: image/jpeg, image/png, image/gif or image/webp.")
    width: int = Field(description="As people see it (after the EXIF orientation).")
    height: int = Field(description="In pixels, as people see it.")
    size_bytes: int = Field(description="The file's size.")
    sha256: str = Field(description="SHA-256 of the file: the same bytes are the same image.")
    alt_text: str = Field(description="What the image shows, for people who cannot see it.")
    focal_x: float = Field(description="Where the subject is, from the left (0..1): crops keep it in view.")
    focal_y: float = Field(description="Where the subject is, from the top (0..1).")
    uploaded_by_id: int | None = Field(description="User id of who uploaded it.")
    created_at: datetime = Field(description="When it was uploaded.")
    posts: int = Field(description="How many posts use it; an image in use cannot be deleted.")

    @staticmethod
    def resolve_posts(obj: object) -> int:
        return int(getattr(obj, "post_count", 0) or 0)


class MediaPatch(Patch):
    alt_text: Text | None = Field(
        None,
        max_length=LONG_TEXT,
        description="What the image shows, for people who cannot see it; at most 1,000 characters.",
    )
    focal_x: float | None = Field(None, ge=0.0, le=1.0, description="0: the left edge; 1: the right edge.")
    focal_y: float | None = Field(None, ge=0.0, le=1.0, description="0: the top edge; 1: the bottom edge.")


# ---------------------------------------------------------------- pauses and workflows


class PauseOut(Schema):
    id: int = Field(description="The pause's id.")
    brand_id: int | None = Field(description="null: every brand of the organization.")
    is_crisis: bool = Field(description="Crisis mode: posts sent for review go through the crisis rule.")
    reason: str = Field(description="Why publishing was paused.")
    started_by_id: int | None = Field(description="User id of who paused it.")
    started_at: datetime = Field(description="When it started.")
    ended_by_id: int | None = Field(description="User id of who resumed publishing.")
    ended_at: datetime | None = Field(description="When publishing resumed; null: still paused.")
    held: int = Field(description="Deliveries that came due and wait for publishing to resume.")


class PauseIn(Input):
    brand_id: RecordId | None = Field(None, description="The brand to pause; null: every brand.")
    reason: Text = Field("", max_length=MAX_REASON, description="Why (shown to the team and audited).")
    crisis: bool = Field(False, description="Crisis mode: every post needs the crisis review.")


class ResumeOut(PauseOut):
    released: int = Field(description="Held deliveries released by resuming: they go out now.")


class WorkflowStepIn(Input):
    name: Text = Field(..., max_length=MAX_STEP_NAME, description="e.g. Legal, Brand manager.")
    mode: StepMode = Field(StepMode.ANY, description="any: one approver is enough; all: every one of them.")
    roles: list[Role] = Field(
        default_factory=list,
        max_length=len(Role),
        description="Every active member with one of these roles approves (roles that may approve posts).",
    )
    people: list[UserId] = Field(
        default_factory=list,
        max_length=500,
        description="User ids of active members who may approve posts.",
    )


class WorkflowIn(Input):
    is_active: bool = Field(True, description="false keeps the steps but stops applying them.")
    steps: list[WorkflowStepIn] = Field(
        ..., max_length=MAX_STEPS, description=f"In order; from 1 to {MAX_STEPS} steps, replaced whole."
    )


class WorkflowStepOut(Schema):
    position: int = Field(description="From 1, in the order the steps are taken.")
    name: str = Field(description="The step's name.")
    mode: StepMode = Field(description="any: one approver is enough; all: every one of them.")
    roles: list[str] = Field(description="Roles whose active members approve it.")
    people: list[int] = Field(description="User ids named on the step.")


class WorkflowOut(Schema):
    brand_id: int = Field(description="The brand.")
    kind: WorkflowKind = Field(description="normal (every day) or crisis (while crisis mode is on).")
    configured: bool = Field(description="false: none is set; the built-in rules apply.")
    is_active: bool = Field(description="false: kept but not applied.")
    in_force: bool = Field(
        description="Posts sent for review now go through it (active, with steps, and crisis mode on for "
        "`crisis`, off for `normal`)."
    )
    steps: list[WorkflowStepOut] = Field(description="In order.")
