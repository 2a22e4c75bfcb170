"""The media library (/publish/media/): the brand's images, their descriptions and focal points.

Anyone in the organization may look; uploading, describing and deleting are done (and checked,
and audited) by `tertulia.publishing.actions.media`. Image files are never served from MEDIA_URL:
`media_file` streams an original to members of its organization only, as an image that no browser
may sniff into anything else.

Crops are previewed with CSS (`object-fit: cover` and an `object-position` computed from the same
`crop_box` the renditions use), so what the page shows is the region a network will get.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST, require_safe

from tertulia.core.actions.context import Actor
from tertulia.core.permissions import Perm, declare, has_perm
from tertulia.publishing.actions.compose import may_write
from tertulia.publishing.actions.media import MediaRefused, delete_image, describe_image, upload_image
from tertulia.publishing.imaging.intake import MAX_UPLOAD_BYTES, MIME_TYPES
from tertulia.publishing.imaging.renditions import crop_box
from tertulia.publishing.models import MediaAsset, PostMedia
from tertulia.publishing.rules.placements import Placement
from tertulia.web.forms_compose import DescribeForm, UploadForm
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.sections import section

PER_PAGE = 60
SERVED_TYPES = frozenset(MIME_TYPES.values())


# --- crops, as CSS ---------------------------------------------------------------------------


def crop_position(asset: MediaAsset, placement: Placement) -> tuple[int, int]:
    """The `object-position` (percent across, percent down) that shows `crop_box`'s region."""
    try:
        left, top, right, bottom = crop_box(
            asset.width, asset.height, placement.aspect_ratio, asset.focal_x, asset.focal_y
        )
    except ValueError:  # an image without pixels, or a focal point outside it: the centre
        return 50, 50
    spare_x = asset.width - (right - left)
    spare_y = asset.height - (bottom - top)
    across = round(100 * left / spare_x) if spare_x > 0 else 50
    down = round(100 * top / spare_y) if spare_y > 0 else 50
    return min(max(across, 0), 100), min(max(down, 0), 100)


def crop_classes(asset: MediaAsset, placement: Placement) -> str:
    """CSS classes (publish.css) that crop the image's <img> to `placement` around its focal point."""
    across, down = crop_position(asset, placement)
    return f"fx-{across} fy-{down}"


def focal_classes(asset: MediaAsset) -> str:
    """Classes that put a marker on the focal point itself."""
    return f"fx-{_percent(asset.focal_x)} fy-{_percent(asset.focal_y)}"


def _percent(value: float) -> int:
    if not 0.0 <= value <= 1.0:  # NaN too
        return 50
    return round(value * 100)


@dataclass(frozen=True)
class Crop:
    placement: Placement
    classes: str


def crops_of(asset: MediaAsset) -> list[Crop]:
    return [Crop(placement, crop_classes(asset, placement)) for placement in Placement]


# --- fetching --------------------------------------------------------------------------------


def get_asset(tenant: Tenant, pk: int) -> MediaAsset:
    """An image of the tenant's organization, or "not found"."""
    asset = tenant.restrict(MediaAsset.objects.select_related("brand", "organization")).filter(pk=pk).first()
    if asset is None:
        raise Http404
    return asset


def read_upload(form: UploadForm) -> tuple[bytes, str, str]:
    """The uploaded bytes (one more than the limit at most: intake refuses that), name and type."""
    upload = form.cleaned_data["image_file"]
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    return data, upload.name or "", upload.content_type or ""


# --- the page --------------------------------------------------------------------------------


@dataclass
class AssetCard:
    asset: MediaAsset
    form: DescribeForm
    crops: list[Crop]
    focal: str
    in_use: bool
    errors: list[str] = field(default_factory=list)


def _card(
    asset: MediaAsset, used: set[int], form: DescribeForm | None = None, errors: list[str] | None = None
) -> AssetCard:
    return AssetCard(
        asset=asset,
        form=form
        or DescribeForm(
            initial={"alt_text": asset.alt_text, "focal_x": asset.focal_x, "focal_y": asset.focal_y},
            auto_id=f"id_{asset.pk}_%s",
        ),
        crops=crops_of(asset),
        focal=focal_classes(asset),
        in_use=asset.pk in used,
        errors=errors or [],
    )


def _page(
    request: HttpRequest,
    tenant: Tenant,
    *,
    status: int = 200,
    upload_form: UploadForm | None = None,
    upload_errors: list[str] | None = None,
    editing: MediaAsset | None = None,
    describe_form: DescribeForm | None = None,
    describe_errors: list[str] | None = None,
) -> HttpResponse:
    brand = tenant.brand
    user = signed_in_user(request)
    assets = MediaAsset.objects.filter(brand=brand) if brand is not None else MediaAsset.objects.none()
    page = Paginator(assets.order_by("-created_at", "-id"), PER_PAGE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    if editing is not None and editing.pk not in {asset.pk for asset in shown}:
        shown.insert(0, editing)
    used = set(
        PostMedia.objects.filter(asset__in=[asset.pk for asset in shown]).values_list("asset_id", flat=True)
    )
    cards = [
        _card(asset, used, describe_form, describe_errors)
        if editing is not None and asset.pk == editing.pk
        else _card(asset, used)
        for asset in shown
    ]
    context = {
        "section": "publish",
        "brand": brand,
        "page": page,
        "cards": cards,
        "can_write": brand is not None and may_write(user, brand),
        "upload_form": upload_form or UploadForm(),
        "upload_errors": upload_errors or [],
        "placements": list(Placement),
    }
    return render(request, "web/media_library.html", context, status=status)


@require_GET
@section("publish")
def media_library(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    return _page(request, tenant)


@require_POST
@section("publish", write={Perm.PROPOSE_POSTS, Perm.PUBLISH_POSTS})
def media_upload(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    brand = tenant.brand
    if brand is None:
        raise Http404
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, tenant, status=400, upload_form=form)
    data, name, declared = read_upload(form)
    try:
        asset, new = upload_image(
            Actor.from_request(request), brand, data, name, declared, form.cleaned_data["image_alt"]
        )
    except MediaRefused as refused:
        return _page(request, tenant, status=400, upload_form=form, upload_errors=[str(refused)])
    if new:
        messages.success(request, _("Image uploaded."))
    else:
        messages.info(
            request, _("This image was already in the library: its description and focal point are kept.")
        )
    return redirect(f"{reverse('web:media')}#asset-{asset.pk}")


@require_POST
@section("publish", write={Perm.PROPOSE_POSTS, Perm.PUBLISH_POSTS})
def media_describe(request: HttpRequest, tenant: Tenant, asset_id: int) -> HttpResponse:
    asset = get_asset(tenant, asset_id)
    form = DescribeForm(request.POST, auto_id=f"id_{asset.pk}_%s")
    if not form.is_valid():
        return _page(request, tenant, status=400, editing=asset, describe_form=form)
    try:
        describe_image(
            Actor.from_request(request),
            asset,
            alt_text=form.cleaned_data["alt_text"],
            focal_x=form.cleaned_data["focal_x"],
            focal_y=form.cleaned_data["focal_y"],
        )
    except MediaRefused as refused:
        return _page(
            request, tenant, status=400, editing=asset, describe_form=form, describe_errors=[str(refused)]
        )
    messages.success(request, _("Image saved."))
    page = request.GET.get("page", "")
    query = f"?page={page}" if page.isdigit() else ""
    return redirect(f"{reverse('web:media')}{query}#asset-{asset.pk}")


@require_POST
@section("publish", write={Perm.PROPOSE_POSTS, Perm.PUBLISH_POSTS})
def media_delete(request: HttpRequest, tenant: Tenant, asset_id: int) -> HttpResponse:
    asset = get_asset(tenant, asset_id)
    try:
        delete_image(Actor.from_request(request), asset)
    except MediaRefused as refused:
        messages.error(request, str(refused))
        return redirect(f"{reverse('web:media')}#asset-{asset.pk}")
    messages.success(request, _("Image deleted."))
    return redirect("web:media")


# --- the files -------------------------------------------------------------------------------


def _visible(request: HttpRequest, asset: MediaAsset) -> bool:
    """Members of its organization who work in its brand."""
    return has_perm(signed_in_user(request), asset.organization, Perm.VIEW, asset.brand)


@declare(Perm.VIEW)  # in the asset's organization, whichever one is selected
@require_safe
@login_required
def media_file(request: HttpRequest, asset_id: int) -> HttpResponseBase:
    """An image as uploaded, for members of its organization and brand only ("not found" for anyone else)."""
    asset = MediaAsset.objects.select_related("organization", "brand").filter(pk=asset_id).first()
    if asset is None or not _visible(request, asset):
        raise Http404
    try:
        handle = asset.file.open("rb")
    except (OSError, ValueError):  # the file is gone from storage
        raise Http404 from None
    content_type = asset.mime_type if asset.mime_type in SERVED_TYPES else "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    # Named by content: the bytes behind this address never change, but only its members may keep them.
    response["Cache-Control"] = "private, max-age=86400"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
