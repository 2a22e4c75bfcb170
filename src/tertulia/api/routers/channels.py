"""Channels: connected accounts on networks, owned by brands."""

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.pagination import Pagination
from tertulia.api.schemas import (
    MAX_ID,
    AuthorizeIn,
    AuthorizeOut,
    ChannelConnectIn,
    ChannelOut,
    ChannelPatch,
    ObjectId,
    OperatorsIn,
    OperatorsOut,
    Text,
)
from tertulia.api.scopes import Scope
from tertulia.connectors import connecting
from tertulia.connectors.registry import connector_class
from tertulia.connectors.signin import STATE_TTL, SignIn, sign_in_method
from tertulia.core.actions import channels as actions
from tertulia.core.models import Channel, ChannelStatus, User
from tertulia.core.permissions import brand_members

router = Router(tags=["channels"])


def _channels(ctx: ApiContext) -> QuerySet[Channel]:
    """The channels of the caller's brands: another brand's id is not found."""
    return ctx.restrict(Channel.objects.select_related("organization").prefetch_related("operator_grants"))


class ChannelFilter(Schema):
    brand_id: int | None = Field(None, ge=1, le=MAX_ID)
    network: Text | None = Field(None, max_length=32)
    status: ChannelStatus | None = None


@router.get("/channels", response=list[ChannelOut], summary="List channels")
@paginate(Pagination)
def list_channels(request: HttpRequest, filters: Query[ChannelFilter]) -> QuerySet[Channel]:
    ctx = require(request, Scope.CHANNELS_READ)
    channels = _channels(ctx).order_by("brand__name", "network", "handle", "id")
    for field in ("brand_id", "network", "status"):
        value = getattr(filters, field)
        if value is not None:
            channels = channels.filter(**{field: value})
    return channels


@router.get("/channels/{channel_id}", response=ChannelOut, summary="One channel")
def get_channel(request: HttpRequest, channel_id: ObjectId) -> Channel:
    ctx = require(request, Scope.CHANNELS_READ)
    return get_object_or_404(_channels(ctx), pk=channel_id)


@router.post(
    "/brands/{brand_id}/channels",
    response={201: ChannelOut},
    summary="Connect an account by handle (sandbox) or app password (Bluesky); OAuth networks use /authorize",
)
def connect_channel(request: HttpRequest, brand_id: ObjectId, payload: ChannelConnectIn) -> Status[Channel]:
    ctx = require(request, Scope.CHANNELS_WRITE)
    brand = get_object_or_404(ctx.brands(), pk=brand_id)
    method = sign_in_method(connector_class(payload.network))
    actor = ctx.actor(request)
    if method == SignIn.OAUTH:
        raise ApiError(
            422,
            _("This network signs in through its own page: use POST /brands/{id}/channels/authorize."),
            "use_authorize",
        )
    if method == SignIn.PASSWORD:
        if not payload.app_password:
            raise ApiError(422, _("This network needs an app password."), "app_password_required")
        channel = connecting.connect_with_password(
            actor, brand, payload.network, payload.handle, payload.app_password, payload.server
        )
    else:
        channel = actions.connect_channel(actor, brand, payload.network, payload.handle, payload.display_name)
    return Status(201, get_object_or_404(_channels(ctx), pk=channel.pk))


@router.post(
    "/brands/{brand_id}/channels/authorize",
    response={201: AuthorizeOut},
    summary="Start an OAuth sign-in; the person finishes it in their browser, signed in to Tertulia",
)
def authorize_channel(
    request: HttpRequest, brand_id: ObjectId, payload: AuthorizeIn
) -> Status[dict[str, object]]:
    ctx = require(request, Scope.CHANNELS_WRITE)
    brand = get_object_or_404(ctx.brands(), pk=brand_id)
    url = connecting.begin_authorization(
        brand,
        ctx.user,
        payload.network,
        payload.server,
        request.build_absolute_uri(reverse("web:channel-callback")),
        ctx.actor(request),
    )
    return Status(201, {"authorization_url": url, "expires_in": int(STATE_TTL.total_seconds())})


@router.patch("/channels/{channel_id}", response=ChannelOut, summary="Change a channel's status")
def update_channel(request: HttpRequest, channel_id: ObjectId, payload: ChannelPatch) -> Channel:
    ctx = require(request, Scope.CHANNELS_WRITE)
    channel = get_object_or_404(_channels(ctx), pk=channel_id)
    return actions.set_channel_status(ctx.actor(request), channel, payload.status)


@router.put(
    "/channels/{channel_id}/operators",
    response=OperatorsOut,
    summary="Set who may operate a channel (replaces the whole list)",
)
def set_operators(request: HttpRequest, channel_id: ObjectId, payload: OperatorsIn) -> dict[str, list[int]]:
    ctx = require(request, Scope.CHANNELS_WRITE)
    channel = get_object_or_404(_channels(ctx), pk=channel_id)
    wanted = set(payload.user_ids)
    # Only active members who work in the channel's brand are looked up, so an error never reveals who
    # else exists (a member limited to other brands could not operate it).
    users = list(User.objects.filter(pk__in=wanted, memberships__in=brand_members(channel.brand)).distinct())
    outsiders = sorted(wanted - {u.pk for u in users})
    if outsiders:
        raise ApiError(
            422,
            _("These user ids are not active members who work in the channel's brand: %(ids)s.")
            % {"ids": ", ".join(str(pk) for pk in outsiders)},
            "not_a_member",
            user_ids=outsiders,
        )
    operators = actions.set_channel_operators(ctx.actor(request), channel, users)
    return {"user_ids": sorted(u.pk for u in operators)}
