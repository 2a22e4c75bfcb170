"""The contributor portal's part of the demo: a few guidelines for the main brand and two
contributions from across the company (docs/contributor-portal.md)."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from tertulia.core.actions.context import Actor
from tertulia.core.models import Brand, Membership, Role, User
from tertulia.core.models.audit import Via
from tertulia.portal.access import may_contribute
from tertulia.portal.actions.contributions import ContributionIn, propose
from tertulia.portal.actions.guidelines import GuidelineIn, create_guideline
from tertulia.portal.models import Contribution, Guideline

GUIDELINES = [
    (
        "voice",
        "Cómo hablamos en redes",
        "Hablamos como hablaría alguien de la tienda: cercano, claro y sin prisas.\n\n"
        "- Tuteamos siempre, también en las quejas.\n"
        "- Un emoji como mucho por mensaje, nunca en una queja.\n"
        "- Firmamos con el nombre de pila cuando la respuesta es personal.\n\n"
        "## Lo que no hacemos\n\n"
        "- Prometer plazos que no dependen de nosotros.\n"
        "- Discutir en público: pasamos a mensaje privado.",
    ),
    (
        "community",
        "Normas de la comunidad",
        "Queremos una conversación en la que todo el mundo se sienta bienvenido.\n\n"
        "1. Se permite la crítica; no los insultos.\n"
        "2. Nada de datos personales de otras personas.\n"
        "3. El spam se oculta sin aviso.\n\n"
        "Versión pública: https://example.com/normas",
    ),
    (
        "moderation",
        "When to hide, delete or block",
        "Hide spam and insults. Never hide or delete a complaint: answer it, even when it hurts.\n\n"
        "- Delete only what breaks the law or exposes someone's personal data.\n"
        "- Block only after a warning, and never a customer without a second person's approval.",
    ),
    (
        "legal",
        "Sorteos y concursos",
        "Todo sorteo necesita bases legales revisadas por Legal antes de publicarse.\n\n"
        "- Indica fechas, premio y cómo se elige a la persona ganadora.\n"
        "- Nada de pedir que etiqueten a amigos en Instagram.",
    ),
]


def seed_portal(brand: Brand, owner: User) -> str:
    """Guidelines and two contributions for the demo's main brand (once); a line for the progress."""
    if Guideline.objects.filter(brand=brand).exists():
        return "portal: already loaded"
    # The first member of each role who works in the brand (a fixed order: the same on every database).
    people: dict[str, User] = {}
    for m in (
        Membership.objects.filter(organization_id=brand.organization_id, is_active=True)
        .select_related("user")
        .order_by("pk")
    ):
        if may_contribute(m.user, brand):
            people.setdefault(m.role, m.user)
    contributor = people.get(Role.CONTRIBUTOR, owner)
    analyst = people.get(Role.ANALYST, owner)
    manager = people.get(Role.BRAND_MANAGER, owner)
    reviewed = timezone.localdate() - timedelta(days=40)
    with transaction.atomic():
        for kind, title, body in GUIDELINES:
            create_guideline(
                Actor(user=manager, via=Via.SYSTEM, label_override="demo loader"),
                brand,
                GuidelineIn(kind=kind, title=title, body=body, owner=manager, last_reviewed=reviewed),
            )
        if not Contribution.objects.filter(brand=brand).exists():
            propose(
                Actor(user=contributor, via=Via.SYSTEM, label_override="demo loader"),
                brand,
                ContributionIn(
                    kind="idea",
                    text="Esta semana llegan las primeras castañas de Ourense: ¿un vídeo corto en el obrador "
                    "asándolas con la receta de la abuela?",
                    why="La gente pregunta cada otoño cuándo vuelven.",
                    suggested_date=timezone.localdate() + timedelta(days=5),
                ),
            )
            propose(
                Actor(user=analyst, via=Via.SYSTEM, label_override="demo loader"),
                brand,
                ContributionIn(
                    kind="flag",
                    text="Una clienta cuenta en un foro que su pedido llegó roto y nadie le contesta.",
                    link="https://foro.example.com/t/pedido-roto-despensa/4821",
                    urgency="normal",
                ),
            )
    return f"portal: {len(GUIDELINES)} guidelines, 2 contributions"
