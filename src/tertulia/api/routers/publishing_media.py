"""A brand's media library: upload images, describe them, move their focal point, delete the ones
no post uses. The same actions as the composer's library (tertulia.publishing.actions.media).

Reading needs `posts:read`; changing needs `posts:write`. An upload is judged by its bytes, never
by its name or declared type: JPEG, PNG, GIF or WebP up to 30 MB and 50 megapixels, at least
200x200 pixels; anything else is 422 `image_refused` with a message that says what to do. The same file
uploaded again is the same image (200, its description and focal point kept). Another
organization's ids are 404.
"""

from typing import Annotated

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import FileResponse, HttpRequest, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.params.functions import File as FileParam
from ninja.params.functions import Form as FormParam

from tertulia.api.auth import ApiContext, require
from tertulia.api.errors import ApiError
from tertulia.api.pagination import Pagination
from tertulia.api.publishing_schemas import MediaOut, MediaPatch
from tertulia.api.schemas import LONG_TEXT, ObjectId
from tertulia.api.scopes import Scope
from tertulia.core.models import Brand
from tertulia.publishing.actions import media
from tertulia.publishing.actions.compose import may_write
from tertulia.publishing.imaging.intake import MAX_UPLOAD_BYTES, MIME_TYPES, in_megabytes
from tertulia.publishing.models import MediaAsset, PostMedia

router = Router(tags=["publishing"])

# The types intake stores; anything else is served as a download, never as something a browser runs.
SERVED_TYPES = sorted(set(MIME_TYPES.values()))

ImageFile = Annotated[UploadedFile, FileParam(..., description="JPEG, PNG, GIF or WebP; at most 30 MB.")]
AltText = Annotated[
    str,
    FormParam(
        "",
        max_length=LONG_TEXT,
        description="What the image shows, for people who cannot see it; at most 1,000 characters.",
    ),
]


def _assets(ctx: ApiContext) -> QuerySet[MediaAsset]:
    uses = (
        PostMedia.objects.filter(asset=OuterRef("pk"))
        .order_by()
        .values("asset")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return ctx.restrict(MediaAsset.objects.all()).annotate(post_count=Coalesce(Subquery(uses), 0))


def _asset(ctx: ApiContext, asset_id: int) -> MediaAsset:
    return get_object_or_404(_assets(ctx).select_related("brand__organization"), pk=asset_id)


def _refused(refused: media.MediaRefused, ctx: ApiContext, brand: Brand, field: str = "file") -> ApiError:
    if not may_write(ctx.user, brand):
        return ApiError(403, str(refused), "permission_denied")
    return ApiError(
        422,
        str(refused),
        "image_refused" if field == "file" else "validation_error",
        errors=[{"loc": ["body", field], "msg": str(refused), "type": "invalid"}],
    )


@router.get(
    "/brands/{brand_id}/media", response=list[MediaOut], summary="A brand's media library, newest first"
)
@paginate(Pagination)
def list_media(request: HttpRequest, brand_id: ObjectId) -> QuerySet[MediaAsset]:
    ctx = require(request, Scope.POSTS_READ)
    brand = get_object_or_404(ctx.brands(), pk=brand_id)
    return _assets(ctx).filter(brand=brand).order_by("-created_at", "-id")


@router.post(
    "/brands/{brand_id}/media",
    response={200: MediaOut, 201: MediaOut},
    summary="Upload an image to the brand's library (multipart/form-data)",
    description=(
        "Send the image as the `file` part, and optionally its description as `alt_text`. 201: a new "
        "image; 200: the same file was already in the library (its description and focal point are "
        "kept; `alt_text` is not applied). Over 30 MB: 413 `payload_too_large`."
    ),
)
def upload_media(
    request: HttpRequest,
    brand_id: ObjectId,
    file: ImageFile,
    alt_text: AltText = "",
) -> Status[MediaAsset]:
    ctx = require(request, Scope.POSTS_WRITE)
    brand = get_object_or_404(ctx.brands(), pk=brand_id)
    size = file.size or 0
    if size > MAX_UPLOAD_BYTES:
        # Refused before the file is read into memory; the message is the one intake gives.
        raise ApiError(
            413,
            _(
                "The file is %(size)s MB and the most Tertulia accepts is %(limit)s MB: "
                "export a smaller image and upload it again."
            )
            % {"size": in_megabytes(size), "limit": in_megabytes(MAX_UPLOAD_BYTES)},
            "payload_too_large",
        )
    data = file.read()
    try:
        asset, new = media.upload_image(
            ctx.actor(request), brand, data, file.name or "", file.content_type or "", alt_text
        )
    except media.MediaRefused as refused:
        raise _refused(refused, ctx, brand) from None
    return Status(201 if new else 200, _asset(ctx, asset.pk))


@router.get("/media/{asset_id}", response=MediaOut, summary="One image of a media library")
def get_media(request: HttpRequest, asset_id: ObjectId) -> MediaAsset:
    ctx = require(request, Scope.POSTS_READ)
    return _asset(ctx, asset_id)


@router.get(
    "/media/{asset_id}/file",
    summary="The image's file, as uploaded",
    openapi_extra={
        "responses": {
            200: {
                "description": "The bytes, with the image's MIME type.",
                "content": {
                    mime: {"schema": {"type": "string", "format": "binary"}} for mime in SERVED_TYPES
                },
            }
        }
    },
)
def get_media_file(request: HttpRequest, asset_id: ObjectId) -> HttpResponseBase:
    ctx = require(request, Scope.POSTS_READ)
    asset = _asset(ctx, asset_id)
    try:
        handle = asset.file.open("rb")
    except (OSError, ValueError):  # the file is gone from storage
        raise ApiError(404, _("Not found."), "not_found") from None
    served = asset.mime_type if asset.mime_type in SERVED_TYPES else "application/octet-stream"
    response = FileResponse(handle, content_type=served)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@router.patch(
    "/media/{asset_id}",
    response=MediaOut,
    summary="Change an image's description or focal point",
    description=(
        "Crops made from now on keep the focal point in view; a scheduled post keeps the crop it was "
        "scheduled with."
    ),
)
def update_media(request: HttpRequest, asset_id: ObjectId, payload: MediaPatch) -> MediaAsset:
    ctx = require(request, Scope.POSTS_WRITE)
    asset = _asset(ctx, asset_id)
    try:
        media.describe_image(
            ctx.actor(request),
            asset,
            alt_text=payload.alt_text,
            focal_x=payload.focal_x,
            focal_y=payload.focal_y,
        )
    except media.MediaRefused as refused:
        field = "alt_text" if payload.alt_text is not None else "focal_x"
        raise _refused(refused, ctx, asset.brand, field) from None
    return _asset(ctx, asset.pk)


@router.delete(
    "/media/{asset_id}",
    response={204: None},
    summary="Delete an image no post uses (409 `in_use` otherwise)",
)
def delete_media(request: HttpRequest, asset_id: ObjectId) -> Status[None]:
    ctx = require(request, Scope.POSTS_WRITE)
    asset = _asset(ctx, asset_id)
    try:
        media.delete_image(ctx.actor(request), asset)
    except media.MediaRefused as refused:
        if not may_write(ctx.user, asset.brand):
            raise ApiError(403, str(refused), "permission_denied") from None
        raise ApiError(409, str(refused), "in_use") from None
    return Status(204, None)
