"""Fetching publishing objects for a person: inside their organization only, or not at all (404)."""

from __future__ import annotations

from django.http import Http404

from tertulia.core.models import Organization, User
from tertulia.core.permissions import Perm, has_perm
from tertulia.publishing.models import DeliveryTarget, Post


def get_post(user: User, organization: Organization, pk: int) -> Post:
    if not has_perm(user, organization, Perm.VIEW):
        raise Http404
    post = Post.objects.select_related("brand", "created_by").filter(pk=pk, organization=organization).first()
    if post is None:
        raise Http404
    return post


def get_target(user: User, organization: Organization, pk: int) -> DeliveryTarget:
    if not has_perm(user, organization, Perm.VIEW):
        raise Http404
    target = (
        DeliveryTarget.objects.select_related("channel", "post")
        .filter(pk=pk, organization=organization)
        .first()
    )
    if target is None:
        raise Http404
    return target
