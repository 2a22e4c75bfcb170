"""The composer: write one post, adapt it per channel, add images, and send it on.

/publish/new/ and /publish/posts/<id>/edit/ show one form; /publish/check/ answers it as the person
types (htmx posts the whole form, the partial shows each channel's verdict and preview). The
verdicts come from `tertulia.publishing.verdicts`, the very function review and scheduling use, so
what the composer says is what happens later.

The buttons: "Save draft" saves; "Send for review" saves and submits (someone who needs no review
goes straight on: approved, and scheduled if the post has a time); "Schedule" (people who may
publish) also puts an approved post on the calendar. "Check" (for browsers without JavaScript) and
"Upload" (an image into the library, ticked for this post) save nothing: the form comes back as
typed. A refused save comes back as typed too, with the reasons above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Channel, User
from tertulia.core.permissions import Perm
from tertulia.publishing import approvals
from tertulia.publishing.access import get_post
from tertulia.publishing.actions import review, scheduling
from tertulia.publishing.actions.compose import (
    EDITABLE,
    REOPENED_BY_EDIT,
    ComposeRefused,
    create_post,
    may_edit,
    may_write,
    update_post,
)
from tertulia.publishing.actions.media import MediaRefused, upload_image
from tertulia.publishing.models import MediaAsset, Post, PostMedia, PostState, Variant
from tertulia.publishing.previews import CARD_NETWORKS, card_url
from tertulia.publishing.rules.check import INVISIBLE_CONTROLS, TextCheck
from tertulia.publishing.rules.placements import Placement
from tertulia.publishing.verdicts import ChannelVerdict, VariantDraft, verdicts
from tertulia.web.forms_compose import ComposeForm, UploadForm, brand_zone, local_input, network_choices
from tertulia.web.tenant import Tenant, signed_in_user
from tertulia.web.views.media import crop_classes, read_upload
from tertulia.web.views.sections import section

# The library's newest images offered in the composer (besides those the post has).
LIBRARY_SHOWN = 100
# Shown as a visible code in previews: they hide or reorder text (X refuses the byte-order mark).
SHOWN_AS_CODES = INVISIBLE_CONTROLS | {"\ufeff"}
ACTIONS = frozenset({"save", "submit", "schedule", "check", "upload"})


# --- previews --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    kind: str  # "text", "hashtag", "mention", "link", or "control" (an invisible character, by its code)
    text: str


# The hijack guard held the post (tertulia.guard): said the same way wherever it happens.
HELD_MESSAGE = _lazy(
    "Held for review by the hijack guard: something about it looks unusual, so a second person "
    "must release it before it goes out."
)


def _plain(text: str) -> list[Segment]:
    segments: list[Segment] = []
    start = 0
    for index, char in enumerate(text):
        if char in SHOWN_AS_CODES:
            if index > start:
                segments.append(Segment("text", text[start:index]))
            segments.append(Segment("control", f"U+{ord(char):04X}"))
            start = index + 1
    if start < len(text):
        segments.append(Segment("text", text[start:]))
    return segments


def preview_segments(text: str, check: TextCheck | None) -> list[Segment]:
    """The text as sent, cut into plain runs and highlighted entities (escaped by the template)."""
    found = [] if check is None else [*check.links, *check.hashtags, *check.mentions]
    segments: list[Segment] = []
    at = 0
    for entity in sorted(found, key=lambda e: (e.start, -e.end)):
        if entity.start < at:  # inside one already shown (Instagram counts "#top" in a URL)
            continue
        segments.extend(_plain(text[at : entity.start]))
        segments.append(Segment(str(entity.kind), text[entity.start : entity.end]))
        at = entity.end
    segments.extend(_plain(text[at:]))
    return segments


@dataclass(frozen=True)
class VerdictView:
    verdict: ChannelVerdict
    segments: list[Segment]
    image: MediaAsset | None
    crop: str
    more_images: int
    link: str = ""  # the link whose card the network shows (web:link-preview loads it), or ""

    @property
    def over_by(self) -> int:
        check = self.verdict.check
        return 0 if check is None else max(-check.remaining, 0)


def verdict_views(found: Sequence[ChannelVerdict], media: Sequence[MediaAsset]) -> list[VerdictView]:
    views = []
    for verdict in found:
        image = media[0] if media and verdict.placement is not None else None
        views.append(
            VerdictView(
                verdict=verdict,
                segments=preview_segments(verdict.text, verdict.check),
                image=image,
                crop=""
                if image is None or verdict.placement is None
                else crop_classes(image, verdict.placement),
                more_images=max(len(media) - 1, 0) if image is not None else 0,
                link=_card_link(verdict, image),
            )
        )
    return views


def _card_link(verdict: ChannelVerdict, image: MediaAsset | None) -> str:
    """The first link, where the network shows a card for it: a post with an image shows the image."""
    check = verdict.check
    if image is not None or check is None or not check.links or verdict.channel.network not in CARD_NETWORKS:
        return ""
    return card_url(check.links[0].text)


# --- the form's parts ------------------------------------------------------------------------


def _channels(brand: Brand) -> list[Channel]:
    return list(Channel.objects.filter(brand=brand).order_by("network", "handle", "pk"))


def _assets(brand: Brand, post: Post | None, wanted: Sequence[int] = ()) -> list[MediaAsset]:
    """The post's images (in order), any the form asks for, then the library's newest."""
    first: list[MediaAsset] = []
    if post is not None:
        first = [item.asset for item in PostMedia.objects.filter(post=post).select_related("asset")]
    have = {asset.pk for asset in first}
    extra = [pk for pk in wanted if pk not in have]
    if extra:
        first += list(MediaAsset.objects.filter(brand=brand, pk__in=extra[:LIBRARY_SHOWN]))
        have = {asset.pk for asset in first}
    rest = MediaAsset.objects.filter(brand=brand).exclude(pk__in=have).order_by("-created_at", "-id")
    return first + list(rest[:LIBRARY_SHOWN])


def _ints(values: Sequence[str]) -> list[int]:
    return [int(value) for value in values if value.isdigit() and len(value) < 12]


def _post_data(post: Post) -> QueryDict:
    """The saved post as the form would send it back."""
    data = QueryDict(mutable=True)
    data["title"] = post.title
    data["text"] = post.text
    data["utm_campaign"] = post.utm_campaign
    data["scheduled_at"] = local_input(post.scheduled_at, brand_zone(post.brand))
    data["version"] = str(post.version)
    for variant in Variant.objects.filter(post=post):
        data.appendlist("channels", str(variant.channel_id))
        data[f"text_{variant.channel_id}"] = variant.text
        data[f"placement_{variant.channel_id}"] = variant.placement
    for item in PostMedia.objects.filter(post=post):
        data.appendlist("images", str(item.asset_id))
        data[f"order_{item.asset_id}"] = str(item.position + 1)
    return data


def _form(brand: Brand, post: Post | None, data: QueryDict | None, files: Any = None) -> ComposeForm:
    wanted = _ints(data.getlist("images")) if data is not None else []
    return ComposeForm(
        data,
        files,
        brand=brand,
        channels=_channels(brand),
        assets=_assets(brand, post, wanted),
    )


def form_verdicts(form: ComposeForm) -> list[VerdictView]:
    channels = {channel.pk: channel for channel in form.channel_list}
    assets = {asset.pk: asset for asset in form.asset_list}
    variants = [
        VariantDraft(channels[pk], form.variant_text(pk), form.variant_placement(pk))
        for pk in form.chosen_channels()
    ]
    media = [assets[pk] for pk in form.chosen_media()]
    return verdict_views(verdicts(form.text_value(), form.campaign_value(), variants, media), media)


@dataclass
class ChannelRow:
    channel: Channel
    network_name: str
    publishes: bool
    checked: bool
    text: Any  # the bound field of its own text
    placement: Any  # the bound field of its image format
    placements: list[tuple[str, str]]
    usual: str


@dataclass
class ImageTile:
    asset: MediaAsset
    checked: bool
    order: Any  # the bound field of its order
    thumb: str


def _rows(form: ComposeForm) -> list[ChannelRow]:
    checked = set(form.chosen_channels())
    rows = []
    for channel in form.channel_list:
        offer = network_choices(channel.network)
        rows.append(
            ChannelRow(
                channel=channel,
                network_name=offer.name,
                publishes=offer.publishes,
                checked=channel.pk in checked,
                text=form[f"text_{channel.pk}"],
                placement=form[f"placement_{channel.pk}"],
                placements=offer.placements,
                usual=offer.usual,
            )
        )
    return rows


def _tiles(form: ComposeForm) -> list[ImageTile]:
    checked = set(form.chosen_media())
    return [
        ImageTile(
            asset=asset,
            checked=asset.pk in checked,
            order=form[f"order_{asset.pk}"],
            thumb=crop_classes(asset, Placement.SQUARE),
        )
        for asset in form.asset_list
    ]


def _needs_review(user: User, brand: Brand, post: Post | None) -> bool:
    draft = post or Post(organization=brand.organization, brand=brand, created_by=user)
    return approvals.needs_review(user, draft)


def _page(
    request: HttpRequest,
    tenant: Tenant,
    brand: Brand,
    post: Post | None,
    form: ComposeForm,
    *,
    errors: Sequence[str] = (),
    upload_form: UploadForm | None = None,
    upload_errors: Sequence[str] = (),
    status: int = 200,
) -> HttpResponse:
    user = signed_in_user(request)
    context = {
        "section": "publish",
        "brand": brand,
        "post": post,
        "form": form,
        "rows": _rows(form),
        "tiles": _tiles(form),
        "checks": form_verdicts(form),
        "errors": list(errors),
        "upload_form": upload_form or UploadForm(),
        "upload_errors": list(upload_errors),
        "zone": str(form.zone),
        "can_publish": tenant.can(Perm.PUBLISH_POSTS),
        "needs_review": _needs_review(user, brand, post),
        "reopens": post is not None and post.state in REOPENED_BY_EDIT,
    }
    return render(request, "web/compose.html", context, status=status)


# --- the views -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@section("publish", write={Perm.PROPOSE_POSTS, Perm.PUBLISH_POSTS})
def compose_new(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    brand = tenant.brand
    if brand is None:
        raise Http404
    if not may_write(signed_in_user(request), brand):
        raise PermissionDenied
    if request.method == "GET":
        return _page(request, tenant, brand, None, _form(brand, None, None))
    return _save(request, tenant, brand, None)


@require_http_methods(["GET", "POST"])
@section("publish", write={Perm.PROPOSE_POSTS, Perm.PUBLISH_POSTS})
def compose_edit(request: HttpRequest, tenant: Tenant, post_id: int) -> HttpResponse:
    assert tenant.organization is not None
    user = signed_in_user(request)
    post = get_post(user, tenant.organization, post_id)
    if not may_edit(user, post):
        raise PermissionDenied
    if post.state not in EDITABLE | REOPENED_BY_EDIT:
        messages.error(
            request,
            _("A post that is %(state)s cannot be edited; duplicate it to write a new one.")
            % {"state": post.get_state_display().lower()},
        )
        return redirect("web:post-detail", post.pk)
    if request.method == "GET":
        return _page(request, tenant, post.brand, post, _form(post.brand, post, _post_data(post)))
    return _save(request, tenant, post.brand, post)


@require_POST
@section("publish", write={Perm.PROPOSE_POSTS, Perm.PUBLISH_POSTS})
def compose_check(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    """The verdicts of the form as typed so far (htmx swaps them in); saves nothing."""
    assert tenant.organization is not None
    brand_id = _int(request.POST.get("brand"))
    brand = tenant.brands().filter(pk=brand_id).first() if brand_id else None
    if brand is None:
        raise Http404
    if not may_write(signed_in_user(request), brand):
        raise PermissionDenied
    form = _form(brand, None, request.POST)
    form.is_valid()  # what did not validate is left out of the verdicts, not refused
    return render(request, "web/partials/compose_check.html", {"checks": form_verdicts(form)})


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 12 else None


def _save(request: HttpRequest, tenant: Tenant, brand: Brand, post: Post | None) -> HttpResponse:
    action = request.POST.get("action", "save")
    if action not in ACTIONS:
        action = "save"
    form = _form(brand, post, request.POST, request.FILES)
    if action == "upload":
        return _upload(request, tenant, brand, post, form)
    valid = form.is_valid()
    if action == "check":
        return _page(request, tenant, brand, post, form)
    if not valid:
        return _page(
            request, tenant, brand, post, form, errors=[_("Correct the fields marked below.")], status=400
        )
    spec = form.spec()
    if action == "schedule":
        if not tenant.can(Perm.PUBLISH_POSTS):
            refusal = _("You may not publish posts; send it for review instead.")
            return _page(request, tenant, brand, post, form, errors=[refusal], status=400)
        if spec.scheduled_at is None:
            form.add_error("scheduled_at", _("Choose when to publish it."))
            return _page(
                request, tenant, brand, post, form, errors=[_("Choose when to publish it.")], status=400
            )
    actor = Actor.from_request(request)
    try:
        if post is None:
            saved = create_post(actor, brand, spec)
        else:
            version = form.cleaned_data.get("version")
            saved = update_post(actor, post, spec, version=version if version is not None else -1)
    except ComposeRefused as refused:
        return _page(request, tenant, brand, post, form, errors=refused.messages, status=400)
    reopened = post is not None and post.state in REOPENED_BY_EDIT
    if action == "save":
        if reopened:
            messages.warning(
                request, _("Saved. The post is a draft again: send it for review when it is ready.")
            )
        else:
            messages.success(request, _("Draft saved."))
        return redirect("web:post-edit", saved.pk)
    return _send_on(request, actor, saved, schedule=action == "schedule")


def _send_on(request: HttpRequest, actor: Actor, post: Post, *, schedule: bool) -> HttpResponse:
    """Submit the saved post and, for "Schedule", put it on the calendar; refusals keep the draft."""
    when = post.scheduled_at
    try:
        post = review.submit(actor, post)
    except (review.ReviewRefused, scheduling.SchedulingRefused) as refused:
        messages.error(request, str(refused))
        messages.info(request, _("Your changes are saved as a draft."))
        return redirect("web:post-edit", post.pk)
    if schedule and post.state == PostState.APPROVED and when is not None and not scheduling.is_held(post):
        try:
            post = scheduling.schedule(actor, post, when)
        except scheduling.SchedulingRefused as refused:
            # The submit stands (the post is approved): say so, on the post's page where it can be scheduled.
            messages.error(request, str(refused))
            messages.info(request, _("The post is approved but not scheduled."))
            return redirect("web:post-detail", post.pk)
    post.refresh_from_db()
    if post.state == PostState.IN_REVIEW:
        if schedule:
            messages.info(
                request,
                _("This post needs review first: it was sent for review, and is scheduled when approved."),
            )
        else:
            messages.success(request, _("Sent for review."))
    elif post.state == PostState.SCHEDULED and post.scheduled_at is not None:
        zone = brand_zone(post.brand)
        messages.success(
            request,
            _("Scheduled for %(when)s (%(zone)s).")
            % {"when": date_format(post.scheduled_at.astimezone(zone), "DATETIME_FORMAT"), "zone": str(zone)},
        )
    elif post.state == PostState.APPROVED and scheduling.is_held(post):
        messages.warning(request, HELD_MESSAGE)
    elif post.state == PostState.APPROVED:
        messages.success(request, _("Approved: it needs no review. Choose a time to schedule it."))
    return redirect("web:post-detail", post.pk)


def _upload(
    request: HttpRequest, tenant: Tenant, brand: Brand, post: Post | None, form: ComposeForm
) -> HttpResponse:
    """Put an image in the library and tick it for this post; the rest of the form stays as typed."""
    form.is_valid()
    upload = UploadForm(request.POST, request.FILES)
    if not upload.is_valid():
        return _page(request, tenant, brand, post, form, upload_form=upload, status=400)
    data, name, declared = read_upload(upload)
    try:
        asset, _new = upload_image(
            Actor.from_request(request), brand, data, name, declared, upload.cleaned_data["image_alt"]
        )
    except MediaRefused as refused:
        return _page(
            request, tenant, brand, post, form, upload_form=upload, upload_errors=[str(refused)], status=400
        )
    values = request.POST.copy()
    chosen = values.getlist("images")
    if str(asset.pk) not in chosen:
        orders = [_int(values.get(f"order_{pk}")) or 0 for pk in chosen]
        values.appendlist("images", str(asset.pk))
        values[f"order_{asset.pk}"] = str(min(max([len(chosen), *orders]) + 1, 99))
    values.pop("action", None)
    refreshed = _form(brand, post, values)
    refreshed.is_valid()
    messages.success(request, _("Image added to the library and to this post."))
    return _page(request, tenant, brand, post, refreshed)
