from __future__ import annotations

from typing import Any

from django import template

from tertulia.accounts.enforcement import organizations_requiring

register = template.Library()


@register.simple_tag(takes_context=True)
def organizations_requiring_second_factor(context: dict[str, Any]) -> list[str]:
    """Names of the signed-in person's organizations that require a second factor."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return list(organizations_requiring(user).values_list("name", flat=True))
