"""Fetching publishing objects for a person: in their organization and brands only, or not at all (404)."""

from __future__ import annotations

from django.http import Http404

from tertulia.core.models import Organization, User
from tertulia.core.permissions import restrict
from tertulia.publishing.models import DeliveryTarget, Post


def get_post(user: User, organization: Organization, pk: int) -> Post:
    found = restrict(Post.objects.select_related("brand", "created_by"), user, organization)
    post = found.filter(pk=pk, organization=organization).first()
    if post is None:
        raise Http404
    return post


def get_target(user: User, organization: Organization, pk: int) -> DeliveryTarget:
    found = restrict(DeliveryTarget.objects.select_related("channel", "post"), user, organization)
    target = found.filter(pk=pk, organization=organization).first()
    if target is None:
        raise Http404
    return target
