"""The organization's outgoing webhook endpoints, their deliveries and the event types.

Reading needs `webhooks:read`, changing `webhooks:write`; both need a role that manages the
organization (owner, administrator). The signing secret is in the answer that creates or rotates
it, never again; the URL is never answered at all, only its hint (docs/outbound.md). Ids of
another organization are 404.
"""

from datetime import datetime
from typing import Annotated

from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import AfterValidator

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.pagination import Pagination
from tertulia.api.schemas import Input, ObjectId, Patch
from tertulia.api.schemas import _storable as storable
from tertulia.api.scopes import Scope
from tertulia.webhooks import actions, events
from tertulia.webhooks.models import Delivery, DeliveryState, Endpoint, Format

router = Router(tags=["webhooks"])

Name = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(storable)]
Url = Annotated[str, Field(min_length=1, max_length=actions.MAX_URL), AfterValidator(storable)]
EventName = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(storable)]
Language = Annotated[str, Field(min_length=2, max_length=8)]


class EventTypeOut(Schema):
    name: str
    label: str
    description: str


class EndpointOut(Schema):
    id: int
    name: str
    url_hint: str = Field(description="The origin and the first characters of the path; never the whole URL.")
    format: Format
    event_types: list[str]
    language: str
    is_active: bool
    secret_hint: str
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime


class EndpointCreatedOut(EndpointOut):
    secret: str = Field(description="The signing secret (whsec_...): in this answer only.")


class EndpointIn(Input):
    name: Name
    url: Url = Field(description="https://... (http only for hosts the operator's allow-list opens).")
    format: Format = Format.GENERIC
    event_types: list[EventName] = Field(min_length=1, max_length=50)
    language: Language = "en"


class EndpointPatch(Patch):
    name: Name | None = None
    url: Url | None = None
    format: Format | None = None
    event_types: list[EventName] | None = Field(None, min_length=1, max_length=50)
    language: Language | None = None
    is_active: bool | None = None


class SecretOut(Schema):
    secret: str


class WebhookDeliveryOut(Schema):
    id: int
    endpoint_id: int
    event_id: str
    event_type: str
    state: DeliveryState
    attempts: int
    response_status: int | None
    response_excerpt: str  # as the endpoint answered (Text is for input: it refuses NUL, a 422 here)
    error: str
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None


def _endpoints(ctx: ApiContext) -> QuerySet[Endpoint]:
    return Endpoint.objects.filter(organization=ctx.organization)


def _refused(refused: actions.WebhookRefused) -> ApiError:
    return ApiError(422, str(refused), "webhook_refused")


@router.get(
    "/webhooks/event-types", response=list[EventTypeOut], summary="The events an endpoint can receive"
)
def list_webhook_event_types(request: HttpRequest) -> list[dict[str, str]]:
    require(request, Scope.WEBHOOKS_READ)
    return [
        {"name": event.name, "label": str(event.label), "description": str(event.description)}
        for event in events.subscribable()
    ]


@router.get("/webhooks", response=list[EndpointOut], summary="List the webhook endpoints")
@paginate(Pagination)
def list_webhooks(request: HttpRequest) -> QuerySet[Endpoint]:
    ctx = require(request, Scope.WEBHOOKS_READ)
    return _endpoints(ctx).order_by("name", "id")


@router.post(
    "/webhooks",
    response={201: EndpointCreatedOut},
    summary="Add an endpoint (its signing secret is in this answer only)",
)
def create_webhook(request: HttpRequest, payload: EndpointIn) -> Status[dict[str, object]]:
    ctx = require(request, Scope.WEBHOOKS_WRITE)
    try:
        endpoint, secret = actions.create_endpoint(
            ctx.actor(request),
            ctx.organization,
            name=payload.name,
            url=payload.url,
            format=payload.format,
            event_types=payload.event_types,
            language=payload.language,
        )
    except actions.WebhookRefused as refused:
        raise _refused(refused) from None
    return Status(201, {**EndpointOut.model_validate(endpoint).model_dump(), "secret": secret})


@router.get("/webhooks/{endpoint_id}", response=EndpointOut, summary="One webhook endpoint")
def get_webhook(request: HttpRequest, endpoint_id: ObjectId) -> Endpoint:
    ctx = require(request, Scope.WEBHOOKS_READ)
    return get_object_or_404(_endpoints(ctx), pk=endpoint_id)


@router.patch("/webhooks/{endpoint_id}", response=EndpointOut, summary="Change a webhook endpoint")
def update_webhook(request: HttpRequest, endpoint_id: ObjectId, payload: EndpointPatch) -> Endpoint:
    ctx = require(request, Scope.WEBHOOKS_WRITE)
    endpoint = get_object_or_404(_endpoints(ctx), pk=endpoint_id)
    try:
        return actions.update_endpoint(ctx.actor(request), endpoint, **payload.model_dump(exclude_unset=True))
    except actions.WebhookRefused as refused:
        raise _refused(refused) from None


@router.delete("/webhooks/{endpoint_id}", response={204: None}, summary="Delete a webhook endpoint")
def delete_webhook(request: HttpRequest, endpoint_id: ObjectId) -> Status[None]:
    ctx = require(request, Scope.WEBHOOKS_WRITE)
    endpoint = get_object_or_404(_endpoints(ctx), pk=endpoint_id)
    actions.delete_endpoint(ctx.actor(request), endpoint)
    return Status(204, None)


@router.post(
    "/webhooks/{endpoint_id}/rotate-secret",
    response=SecretOut,
    summary="Replace the signing secret (the new one is in this answer only)",
)
def rotate_webhook_secret(request: HttpRequest, endpoint_id: ObjectId) -> dict[str, str]:
    ctx = require(request, Scope.WEBHOOKS_WRITE)
    endpoint = get_object_or_404(_endpoints(ctx), pk=endpoint_id)
    return {"secret": actions.rotate_secret(ctx.actor(request), endpoint)}


@router.post(
    "/webhooks/{endpoint_id}/test",
    response={202: WebhookDeliveryOut},
    summary="Queue a test event for the endpoint",
)
def test_webhook(request: HttpRequest, endpoint_id: ObjectId) -> Status[Delivery]:
    ctx = require(request, Scope.WEBHOOKS_WRITE)
    endpoint = get_object_or_404(_endpoints(ctx), pk=endpoint_id)
    queued = actions.send_test(ctx.actor(request), endpoint)
    return Status(202, queued)


@router.get(
    "/webhooks/{endpoint_id}/deliveries",
    response=list[WebhookDeliveryOut],
    summary="The endpoint's deliveries, newest first",
)
@paginate(Pagination)
def list_webhook_deliveries(request: HttpRequest, endpoint_id: ObjectId) -> QuerySet[Delivery]:
    ctx = require(request, Scope.WEBHOOKS_READ)
    endpoint = get_object_or_404(_endpoints(ctx), pk=endpoint_id)
    return Delivery.objects.filter(endpoint=endpoint).order_by("-created_at", "-id")
