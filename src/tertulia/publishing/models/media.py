"""The media library: images uploaded once per brand, and their renditions per placement."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from tertulia.core.models import Brand, Organization


def asset_path(asset: MediaAsset, filename: str) -> str:
    # Named by content, never by what the uploader called it (no path tricks, no clashes).
    return f"media/{asset.organization_id}/{asset.sha256[:2]}/{asset.sha256}{_extension(asset.mime_type)}"


def rendition_path(rendition: Rendition, filename: str) -> str:
    asset = rendition.asset
    focus = f"{round(rendition.focal_x * 1000)}x{round(rendition.focal_y * 1000)}"
    return (
        f"media/{asset.organization_id}/{asset.sha256[:2]}/{asset.sha256}-{rendition.placement}"
        f"-{rendition.max_bytes}-{focus}{_extension(rendition.mime_type)}"
    )


def _extension(mime_type: str) -> str:
    return {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}.get(
        mime_type, ".bin"
    )


_UNIT = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class MediaAsset(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="media_assets")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    file = models.FileField(upload_to=asset_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    mime_type = models.CharField(max_length=32)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    alt_text = models.TextField(
        _("description (alt text)"),
        blank=True,
        help_text=_("What the image shows, for people who cannot see it."),
    )
    # Where the subject is, from the top-left corner (0..1): crops keep it in view.
    focal_x = models.FloatField(_("focal point (horizontal)"), default=0.5, validators=_UNIT)
    focal_y = models.FloatField(_("focal point (vertical)"), default=0.5, validators=_UNIT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("image")
        verbose_name_plural = _("media library")
        ordering = ("-created_at", "-id")
        constraints = [
            # The same file uploaded twice is one asset (its alt text and focal point are kept).
            models.UniqueConstraint(fields=("brand", "sha256"), name="media_asset_once_per_brand"),
        ]

    def __str__(self) -> str:
        return self.original_name or self.sha256[:12]


class Rendition(models.Model):
    """A crop and size of an asset for one placement, made when a post needs it and kept (never
    replaced: scheduled posts point at theirs)."""

    asset = models.ForeignKey(MediaAsset, on_delete=models.CASCADE, related_name="renditions")
    placement = models.CharField(max_length=16)
    max_bytes = models.PositiveIntegerField()
    focal_x = models.FloatField()
    focal_y = models.FloatField()
    file = models.FileField(upload_to=rendition_path, max_length=255)
    mime_type = models.CharField(max_length=32)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=("asset", "placement", "max_bytes", "focal_x", "focal_y", "mime_type"),
                name="rendition_once_per_crop",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset} {self.placement}"
