"""The hijack guard's marks on other apps' pages: a post held for review shows why and where to act."""

from __future__ import annotations

from typing import Any

from django import template

from tertulia.guard.models import GuardHold, HoldState

register = template.Library()


@register.inclusion_tag("web/guard/_post_banner.html", takes_context=True)
def guard_post_banner(context: template.Context, post: Any) -> dict[str, Any]:
    """One query: the pending hold of this version of the post, if any."""
    from tertulia.guard.checks.findings import describe

    hold = GuardHold.objects.filter(post=post, state=HoldState.PENDING, post_version=post.version).first()
    return {"hold": hold, "reasons": [describe(reason) for reason in hold.reasons] if hold else []}
