from __future__ import annotations

from django import template

from tertulia.web.labels import capability_label as label_of

register = template.Library()


@register.filter
def capability_label(value: str) -> str:
    return str(label_of(value))
